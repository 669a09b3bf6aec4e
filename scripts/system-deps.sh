#!/usr/bin/env bash
# Installs the Debian packages a command needs, when they are missing.
#   system-deps.sh run    what `make run` needs: kamailio for the SIP edge, sipp for `crs call`, npm for
#                         the console's chart library, tesseract and pdftoppm for scanned letters
#   system-deps.sh test   that, plus the SIP peers, the browser, and the mail peers (Postfix, Dovecot,
#                         swaks) the tests drive
# Non-interactive. When it cannot install (not root, no apt-get), it says what to install and fails at once.
set -euo pipefail
purpose="${1:-test}"
declare -A need=(
  [sipp]=sip-tester
  [kamailio]=kamailio
  [npm]=npm
)
if [ "$purpose" = test ]; then
  need+=(
    [baresip]=baresip-core
    [svwar]=sipvicious
    [chromium]=chromium
    [postfix]=postfix
    [dovecot]=dovecot-imapd
    [swaks]=swaks
  )
elif [ "$purpose" != run ]; then
  echo "usage: $0 run|test" >&2
  exit 2
fi
missing=()
for cmd in "${!need[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || [ -x "/usr/sbin/$cmd" ] || [ -x "/usr/bin/$cmd" ] || missing+=("${need[$cmd]}")
done
# Scanned letters: tesseract reads them (with the language packs the demo's letters are in), and poppler's
# pdftoppm turns a scanned PDF's pages into images for it.
command -v pdftoppm >/dev/null 2>&1 || missing+=(poppler-utils)
for pack in eng fra deu spa jpn; do
  [ -e "/usr/share/tesseract-ocr/5/tessdata/$pack.traineddata" ] || missing+=("tesseract-ocr-$pack")
done
command -v tesseract >/dev/null 2>&1 || missing+=(tesseract-ocr)
# Letters render Japanese with this font (WeasyPrint finds it through fontconfig).
[ -e /usr/share/fonts/opentype/ipafont-gothic/ipag.ttf ] || missing+=(fonts-ipafont-gothic)
# Mail tests run private Postfix and Dovecot instances (tests/support/mailpeers.py); Dovecot takes mail by LMTP.
[ "$purpose" = test ] && { [ -x /usr/lib/dovecot/lmtp ] || missing+=(dovecot-lmtpd); }
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing the Debian packages that 'make $purpose' needs: ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  echo "not root: run  sudo apt-get install -y ${missing[*]}  and try again" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "no apt-get here: install ${missing[*]} (or your system's packages of the same programs) and try again" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# Postfix as a package only: no system-wide configuration, so installing it starts no MTA on port 25.
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections 2>/dev/null || true
if ! apt-get update -qq </dev/null || ! apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null; then
  echo "could not install ${missing[*]}: check the package sources, or install them by hand, and try again" >&2
  exit 1
fi
