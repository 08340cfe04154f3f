#!/usr/bin/env python3
"""How long a 32 KB write and its fsync take in a directory (default: the current one).

Usage: python3 fsync.py [DIR ...]
"""
import os
import sys
import time

for d in sys.argv[1:] or ["."]:
    path = os.path.join(d, "fsync_probe")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT)
    started = time.time()
    for _ in range(200):
        os.write(fd, b"x" * 32768)
        os.fsync(fd)
    print(f"{d}: {(time.time() - started) / 200 * 1e3:.2f} ms per write and fsync")
    os.close(fd)
    os.unlink(path)
