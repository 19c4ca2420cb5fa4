"""Memory stays flat whatever the file size: 150 MB streamed through the reader in a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow

PROGRAM = r"""
import io, json, resource
from edi_pipeline.x12.reader import X12Reader

ISA = ("ISA*00*          *00*          *ZZ*S              *ZZ*R              "
       "*250115*0930*^*00501*000000001*0*P*:~\n")
CLAIM = (
    "CLM*E{n:09d}*610***11:B:1*Y*A*Y*Y~\nHI*ABK:M0579~\nLX*1~\nSV1*HC:J1745*575*UN*50***1~\n"
    "DTP*472*D8*20250110~\nREF*6R*E{n:09d}L1~\nLIN**N4*57894003001~\nCTP****5*UN~\n"
)

class Generated(io.RawIOBase):
    # 150 MB of claims, made as they are read: nothing but the reader holds the file.
    def __init__(self, target):
        self.target, self.made, self.n, self.buf = target, 0, 0, ISA.encode()
    def readable(self):
        return True
    def readinto(self, b):
        while len(self.buf) < len(b) and self.made < self.target:
            block = "".join(CLAIM.format(n=self.n + k) for k in range(500)).encode()
            self.n += 500
            self.made += len(block)
            self.buf += block
        size = min(len(b), len(self.buf))
        b[:size] = self.buf[:size]
        self.buf = self.buf[size:]
        return size

def peak_mb():
    # VmHWM is this process's own high-water mark; ru_maxrss on Linux can carry the RSS of the
    # process that forked us (a big pytest run) across exec.
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

segments = sum(1 for _ in X12Reader(io.BufferedReader(Generated(150_000_000)), name="gen"))
print(json.dumps({"segments": segments, "peak_mb": peak_mb()}))
"""


def test_reading_150_mb_stays_under_50_mb_resident() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROGRAM],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    result = json.loads(done.stdout)
    assert result["segments"] > 5_000_000
    assert result["peak_mb"] < 50, result
