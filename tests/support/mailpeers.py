"""Private Postfix and Dovecot instances on loopback, for mail tests against real peers.

Each instance has its own configuration, spool and mail directories in a temporary directory and listens
on unprivileged loopback ports chosen here; it is started and stopped by the test and never touches the
system-wide service, its configuration or port 25. Postfix's master must start as root (it drops to the
`postfix` user); Dovecot delivers and serves mail as `nobody`.
"""

from __future__ import annotations

import contextlib
import imaplib
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.processes import free_port, listening
from tests.support.wait import wait_for

POSTFIX = "/usr/sbin/postfix"
DOVECOT = "/usr/sbin/dovecot"
PASSWORD = "secret"  # every mailbox's, for IMAP login in tests


def require_peers() -> None:
    """Fail (never skip) with what to do when the peers are not installed or cannot run here."""
    missing = [path for path in (POSTFIX, DOVECOT) if not os.path.exists(path)]
    if missing:
        raise AssertionError(f"{missing} not installed: run scripts/system-deps.sh test")
    if os.geteuid() != 0:
        raise AssertionError("the private Postfix's master must start as root (it drops to `postfix`)")


@dataclass
class Dovecot:
    """The consumers' mail provider: LMTP in, IMAP out, one Maildir per address."""

    root: Path
    users: tuple[str, ...]
    imap_port: int = field(default_factory=free_port)
    lmtp_port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    def write_config(self) -> None:
        mail_user = pwd.getpwnam("nobody")
        (self.root / "run").mkdir(parents=True, exist_ok=True)
        lines = []
        for user in self.users:
            home = self.root / "home" / user
            home.mkdir(parents=True, exist_ok=True)
            os.chown(home, mail_user.pw_uid, mail_user.pw_gid)
            lines.append(f"{user}:{{PLAIN}}{PASSWORD}:{mail_user.pw_uid}:{mail_user.pw_gid}::{home}::")
        (self.root / "users").write_text("\n".join(lines) + "\n")
        (self.root / "dovecot.conf").write_text(
            f"""
base_dir = {self.root}/run
state_dir = {self.root}/state
log_path = {self.root}/dovecot.log
protocols = imap lmtp
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_username_format = %Lu
mail_location = maildir:~/Maildir
first_valid_uid = 1
passdb {{
  driver = passwd-file
  args = {self.root}/users
}}
userdb {{
  driver = passwd-file
  args = {self.root}/users
}}
service imap-login {{
  inet_listener imap {{
    port = {self.imap_port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service lmtp {{
  inet_listener lmtp {{
    address = 127.0.0.1
    port = {self.lmtp_port}
  }}
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0600
  }}
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
"""
        )
        (self.root / "state").mkdir(exist_ok=True)

    def start(self) -> Dovecot:
        self.process = subprocess.Popen(
            [DOVECOT, "-F", "-c", str(self.root / "dovecot.conf")],
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=open(self.root / "dovecot.stderr", "ab"),
        )
        wait_for(
            lambda: self._alive() and listening(self.imap_port) and listening(self.lmtp_port),
            timeout=20,
            what="the private Dovecot",
        )
        return self

    def stop(self) -> None:
        """Stop the master and every process it started (a client's `imap` process outlives the master
        otherwise, and its session would carry on as if the server had not gone)."""
        if self.process is None:
            return
        group = self.process.pid
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(20)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(group, signal.SIGTERM)
        wait_for(lambda: not _group_alive(group), timeout=10, what="Dovecot's processes gone")
        wait_for(lambda: not listening(self.imap_port), timeout=10, what="Dovecot's IMAP port freed")

    def restart(self) -> None:
        self.stop()
        self.start()

    def _alive(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"Dovecot exited with {self.process.returncode}:\n{self.log()}")
        return True

    def log(self) -> str:
        texts = [
            p.read_text(errors="replace")
            for p in (self.root / "dovecot.log", self.root / "dovecot.stderr")
            if p.exists()
        ]
        return "\n".join(texts)[-5000:]

    def imap(self, user: str) -> imaplib.IMAP4:
        client = imaplib.IMAP4("127.0.0.1", self.imap_port, timeout=10)
        client.login(user, PASSWORD)
        return client

    def messages(self, user: str) -> list[bytes]:
        """Every message in `user`'s INBOX, raw, oldest first (read over IMAP, as their mail program would)."""
        client = self.imap(user)
        try:
            client.select("INBOX", readonly=True)
            _, data = client.uid("SEARCH", None, "ALL")
            found = []
            for uid in data[0].split():
                _, fetched = client.uid("FETCH", uid, "(BODY.PEEK[])")
                found.append(fetched[0][1])
            return found
        finally:
            client.logout()


def _group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True


@dataclass
class Postfix:
    """The MTA: its SMTP listener on `smtp_port`; each domain in `routes` delivered by LMTP to a port."""

    root: Path
    routes: dict[str, int]
    smtp_port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    def write_config(self) -> None:
        (self.root / "queue").mkdir(parents=True, exist_ok=True)
        (self.root / "data").mkdir(exist_ok=True)
        shutil.chown(self.root / "data", "postfix")
        transport = "".join(f"{domain} lmtp:inet:127.0.0.1:{port}\n" for domain, port in self.routes.items())
        (self.root / "transport").write_text(transport)
        (self.root / "main.cf").write_text(
            f"""
compatibility_level = 3.6
config_directory = {self.root}
queue_directory = {self.root}/queue
data_directory = {self.root}/data
maillog_file = {self.root}/postfix.log
maillog_file_prefixes = {self.root}
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.crs.test
mydestination =
relay_domains = {" ".join(self.routes)}
transport_maps = texthash:{self.root}/transport
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtputf8_enable = no
biff = no
# As an MX for mail from elsewhere: headers left as the sender wrote them, and room for channels' 25 MiB.
local_header_rewrite_clients =
message_size_limit = 31457280
alias_maps =
alias_database =
lmtp_destination_concurrency_limit = 4
minimal_backoff_time = 1s
maximal_backoff_time = 2s
queue_run_delay = 1s
"""
        )
        services = [
            f"127.0.0.1:{self.smtp_port} inet n - n - - smtpd",
            "pickup unix n - n 60 1 pickup",
            "cleanup unix n - n - 0 cleanup",
            "qmgr unix n - n 1 1 qmgr",
            "rewrite unix - - n - - trivial-rewrite",
            "bounce unix - - n - 0 bounce",
            "defer unix - - n - 0 bounce",
            "trace unix - - n - 0 bounce",
            "verify unix - - n - 1 verify",
            "flush unix n - n 1000? 0 flush",
            "proxymap unix - - n - - proxymap",
            "smtp unix - - n - - smtp",
            "relay unix - - n - - smtp",
            "showq unix n - n - - showq",
            "error unix - - n - - error",
            "retry unix - - n - - error",
            "discard unix - - n - - discard",
            "lmtp unix - - n - - lmtp",
            "anvil unix - - n - 1 anvil",
            "scache unix - - n - 1 scache",
            "postlog unix-dgram n - n - 1 postlogd",
        ]
        (self.root / "master.cf").write_text("\n".join(services) + "\n")

    def start(self) -> Postfix:
        self.process = subprocess.Popen(
            [POSTFIX, "-c", str(self.root), "start-fg"],
            stdout=subprocess.DEVNULL,
            stderr=open(self.root / "postfix.stderr", "ab"),
        )
        wait_for(lambda: self._alive() and listening(self.smtp_port), timeout=30, what="the private Postfix")
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            subprocess.run([POSTFIX, "-c", str(self.root), "stop"], capture_output=True, timeout=30)
            self.process.wait(30)

    def _alive(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"Postfix exited with {self.process.returncode}:\n{self.log()}")
        return True

    def log(self) -> str:
        texts = [
            p.read_text(errors="replace")
            for p in (self.root / "postfix.log", self.root / "postfix.stderr")
            if p.exists()
        ]
        return "\n".join(texts)[-5000:]


@contextmanager
def mail_peers(
    *, crs_domain: str, crs_lmtp_port: int, users: tuple[str, ...]
) -> Iterator[tuple[Postfix, Dovecot]]:
    """A Dovecot holding `users`' mailboxes, and a Postfix that delivers `crs_domain` to CRS's LMTP
    ingress and each user's domain to Dovecot's LMTP."""
    require_peers()
    # Short and world-traversable: Dovecot's sockets live under it, and `nobody` writes the mailboxes.
    root = Path(tempfile.mkdtemp(prefix="crs-mail-"))
    root.chmod(0o755)
    dovecot = Dovecot(root / "dovecot", users)
    routes = {crs_domain: crs_lmtp_port} | {user.rpartition("@")[2]: dovecot.lmtp_port for user in users}
    postfix = Postfix(root / "postfix", routes)
    started: list = []
    try:
        for peer in (dovecot, postfix):
            peer.write_config()
            started.append(peer.start())
        yield postfix, dovecot
    finally:
        for peer in reversed(started):
            peer.stop()
        shutil.rmtree(root, ignore_errors=True)
