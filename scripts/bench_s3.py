#!/usr/bin/env python3
"""Object storage throughput and memory: `swapline storage cp` against `aws s3 cp`, same server, same run.

Starts a SeaweedFS gateway (scripts/s3test.sh) on loopback, writes a random file of --size MiB,
then uploads and downloads it with each tool in turn (--rounds times, alternating), timing each
copy and reading each process's peak RSS (getrusage of the finished child). Baseline RSS: the
same binaries doing a tiny operation. awscli comes from PyPI into vendor/bench-venv.

  .venv/bin/python scripts/bench_s3.py [--size 1024] [--rounds 2] [--swapline .build/release/swapline] [--parallel N]
"""
import argparse
import hashlib
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(command, env):
    """Wall seconds and peak RSS (MiB) of one process."""
    pid_start = time.monotonic()
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.monotonic() - pid_start
    stderr = process.stderr.read().decode(errors="replace")
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{' '.join(map(str, command))} failed: {stderr}")
    return seconds, usage.ru_maxrss / 1024


def sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=1024, help="MiB")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--swapline", default=str(ROOT / ".build" / "release" / "swapline"))
    parser.add_argument("--parallel", type=int, help="swapline's --parallel (default: its own default)")
    args = parser.parse_args()
    tuning = ["--parallel", str(args.parallel)] if args.parallel else []

    venv = ROOT / "vendor" / "bench-venv"
    if not (venv / "bin" / "aws").exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "awscli==1.46.3"], check=True)
    aws = str(venv / "bin" / "aws")

    work = Path(tempfile.mkdtemp(prefix="swapline-s3bench-"))
    port = 25000 + os.getpid() % 1000 * 4
    endpoint = subprocess.run([str(ROOT / "scripts" / "s3test.sh"), "start", str(work / "server"), str(port), "bench", "bench-secret",
                               str(os.getpid())], check=True, capture_output=True, text=True).stdout.strip()
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench-secret", "AWS_DEFAULT_REGION": "us-east-1",
           "AWS_EC2_METADATA_DISABLED": "true"}
    ours = [args.swapline, "storage"]
    theirs = [aws, "--endpoint-url", endpoint, "s3"]
    subprocess.run(theirs + ["mb", "s3://bench"], env=env, check=True, capture_output=True)
    source = work / "source.bin"
    with open(source, "wb") as handle:
        for _ in range(args.size):
            handle.write(os.urandom(1 << 20))
    expected = sha256(source)
    tiny = work / "tiny.bin"
    tiny.write_bytes(b"x")

    baseline = {"swapline": run(ours + ["cp", tiny, "s3://bench/tiny", "--s3-endpoint", endpoint], env)[1],
                "aws": run(theirs + ["cp", str(tiny), "s3://bench/tiny"], env)[1]}
    results = {(tool, way): [] for tool in ("swapline", "aws") for way in ("upload", "download")}
    for round_ in range(args.rounds):
        for tool in (("swapline", "aws") if round_ % 2 == 0 else ("aws", "swapline")):
            key = f"s3://bench/{tool}-{round_}.bin"
            copy = work / f"{tool}-{round_}.bin"
            up = ours + ["cp", source, key, "--s3-endpoint", endpoint] + tuning if tool == "swapline" else theirs + ["cp", str(source), key]
            down = ours + ["cp", key, copy, "--s3-endpoint", endpoint] + tuning if tool == "swapline" else theirs + ["cp", key, str(copy)]
            results[(tool, "upload")].append(run(up, env))
            results[(tool, "download")].append(run(down, env))
            if sha256(copy) != expected:
                sys.exit(f"{tool}: the downloaded copy differs")
            copy.unlink()

    print(f"{args.size} MiB, {args.rounds} rounds, endpoint {endpoint} (SeaweedFS on loopback), baseline RSS "
          f"swapline {baseline['swapline']:.0f} MiB, aws {baseline['aws']:.0f} MiB")
    best = {}
    for (tool, way), runs in results.items():
        seconds = min(r[0] for r in runs)
        peak = max(r[1] for r in runs)
        best[(tool, way)] = seconds
        print(f"{tool:9s} {way:8s} best {seconds:6.2f} s = {args.size / seconds:7.1f} MiB/s   peak RSS {peak:6.0f} MiB "
              f"({peak - baseline[tool]:+.0f} over its baseline)   runs: {', '.join(f'{r[0]:.2f}' for r in runs)}")
    for way in ("upload", "download"):
        print(f"{way}: swapline / aws throughput = {best[('aws', way)] / best[('swapline', way)]:.2f}x")
    subprocess.run([str(ROOT / "scripts" / "s3test.sh"), "stop", str(work / "server")])
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
