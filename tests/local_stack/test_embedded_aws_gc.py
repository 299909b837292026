"""The local stack's process freezes what survives a full garbage collection (embedded_aws)."""
from __future__ import annotations

import subprocess
import sys

CODE = """
import gc, weakref
from infra.local_stack.embedded_aws import EmbeddedAws, keep_full_collections_short
gc.collect()
assert gc.get_freeze_count() == 0
aws = EmbeddedAws(port=0); aws.start()
keep_full_collections_short()  # twice changes nothing
kept = [{"n": n} for n in range(10_000)]
gc.collect()
frozen = gc.get_freeze_count()
assert frozen >= 10_000, frozen

class Node:
    pass
a, b = Node(), Node()
a.other, b.other = b, a  # a cycle made after the freeze: still collected
gone = weakref.ref(a)
del a, b
gc.collect()
assert gone() is None
assert gc.get_freeze_count() >= frozen
print(len(gc.callbacks)); aws.stop()
"""


def test_survivors_of_a_full_collection_are_frozen_and_new_garbage_still_collected():
    out = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "1"
