#!/usr/bin/env python3
"""Load generator for translation servers (bench-serving.sh).

N clients, each on its own keep-alive HTTP/1.1 connection, send one-sentence requests one
after another (the next as soon as the last is answered), taking sentences in turn from a
file, until every sentence has been sent `--rounds` times or `--seconds` have passed. Prints
one JSON object: requests, sentences/s, latency p50/p99/mean (ms), errors by kind, and — with
`--expect` — how many good answers differed from the expected translation.

APIs: `libre` (LibreTranslate's POST /translate, s2s serve) and `onmt` (OpenNMT-py's
onmt_server, POST /translator/translate). `--bad-every K` makes every K-th request a bad
one (malformed JSON, a wrong type, a missing field, invalid UTF-8, an unknown route, a body
over the limit, a client that disconnects before its answer, in turn); those must get their
4xx (or nothing, for the vanishing client) and count apart from the good ones.

Standard library only (asyncio streams), so it runs in any Python 3.8+.
"""
import argparse
import asyncio
import json
import time


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--api", choices=["libre", "onmt"], default="libre")
    p.add_argument("--clients", type=int, default=1)
    p.add_argument("--sentences", required=True, help="one sentence per line")
    p.add_argument("--expect", help="the expected translation of each line (checked for every good answer)")
    p.add_argument("--rounds", type=float, default=1.0, help="times through the file (fractions allowed)")
    p.add_argument("--seconds", type=float, default=0, help="stop after this long instead (0: by rounds)")
    p.add_argument("--bad-every", type=int, default=0, help="every K-th request is a bad one (0: none)")
    p.add_argument("--source", default="en")
    p.add_argument("--target", default="fr")
    p.add_argument("--server-pid", type=int, help="read the server's RSS from /proc (peak at the end, samples with --rss-every)")
    p.add_argument("--rss-every", type=float, default=0, help="sample the server's RSS this often (seconds)")
    p.add_argument("--row", nargs=2, metavar=("NAME", "BEAM"), help="print a markdown row instead of JSON")
    return p.parse_args()


def rss_mb(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return round(int(line.split()[1]) / 1024)
    return None


def good_body(args, sentence):
    if args.api == "libre":
        return "/translate", json.dumps({"q": sentence, "source": args.source, "target": args.target}).encode()
    return "/translator/translate", json.dumps([{"src": sentence, "id": 0}]).encode()


# Bad requests in turn: (name, path, body, expected status or None for "no answer awaited").
BAD = [
    ("malformed-json", "/translate", b'{"q": "a man", ', 400),
    ("wrong-type", "/translate", b'{"q": 7, "source": "en", "target": "fr"}', 400),
    ("missing-q", "/translate", b'{"source": "en", "target": "fr"}', 400),
    ("invalid-utf8", "/translate", b'{"q": "\xc3\x28\xff", "source": "en", "target": "fr"}', 400),
    ("unknown-route", "/translate/v2", b'{}', 404),
    ("too-large", "/translate", b'{"q": "' + b"a " * 600000 + b'", "source": "en", "target": "fr"}', 413),
    ("vanishing", "/translate", None, None),
]


def request_bytes(host, port, path, body, close=False):
    head = (f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n" + ("Connection: close\r\n" if close else "") + "\r\n")
    return head.encode() + body


async def read_answer(reader):
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        if line.lower().startswith("content-length:"):
            length = int(line.split(":", 1)[1])
    body = await reader.readexactly(length)
    return status, body


def answer_text(api, body):
    data = json.loads(body)
    if api == "libre":
        return data["translatedText"]
    return data[0][0]["tgt"]


class Load:
    def __init__(self, args, sentences, expected):
        self.args = args
        self.sentences = sentences
        self.expected = expected
        self.total = int(len(sentences) * args.rounds) if not args.seconds else None
        self.next = 0
        self.latencies = []
        self.errors = {}
        self.wrong = 0
        self.good = 0
        self.bad_ok = 0
        self.bad_wrong = {}
        self.deadline = None
        self.rss_samples = []

    def take(self):
        if self.total is not None and self.next >= self.total:
            return None
        if self.deadline is not None and time.monotonic() >= self.deadline:
            return None
        n = self.next
        self.next += 1
        return n

    def error(self, kind):
        self.errors[kind] = self.errors.get(kind, 0) + 1

    async def bad(self, n):
        name, path, body, status = BAD[(n // self.args.bad_every) % len(BAD)]
        reader, writer = await asyncio.open_connection(self.args.host, self.args.port)
        try:
            if body is None:
                # Half a request with a big announced body, then gone.
                writer.write(request_bytes(self.args.host, self.args.port, path, b"")[:-4]
                             + b"\r\nContent-Length: 100000\r\n\r\n{\"q\": \"a")
                await writer.drain()
                self.bad_ok += 1
                return
            writer.write(request_bytes(self.args.host, self.args.port, path, body, close=True))
            try:
                await writer.drain()
            except OSError:
                pass  # a server may answer 413 and close before the whole body is sent
            got, _ = await read_answer(reader)
            if got == status:
                self.bad_ok += 1
            else:
                self.bad_wrong[f"{name}:{got}"] = self.bad_wrong.get(f"{name}:{got}", 0) + 1
        except (OSError, asyncio.IncompleteReadError) as error:
            self.bad_wrong[f"{name}:{type(error).__name__}"] = self.bad_wrong.get(f"{name}:{type(error).__name__}", 0) + 1
        finally:
            writer.close()

    async def client(self):
        reader = writer = None
        while True:
            n = self.take()
            if n is None:
                break
            if self.args.bad_every and n % self.args.bad_every == self.args.bad_every - 1:
                await self.bad(n)
                continue
            line = n % len(self.sentences)
            path, body = good_body(self.args, self.sentences[line])
            start = time.perf_counter()
            try:
                if writer is None:
                    reader, writer = await asyncio.open_connection(self.args.host, self.args.port)
                writer.write(request_bytes(self.args.host, self.args.port, path, body))
                await writer.drain()
                status, answer = await read_answer(reader)
            except (OSError, asyncio.IncompleteReadError, ValueError) as error:
                self.error(type(error).__name__)
                writer = None
                continue
            self.latencies.append(time.perf_counter() - start)
            if status != 200:
                self.error(f"status {status}")
                continue
            self.good += 1
            if self.expected is not None and answer_text(self.args.api, answer) != self.expected[line]:
                self.wrong += 1
        if writer is not None:
            writer.close()

    async def sample_rss(self):
        while True:
            self.rss_samples.append(rss_mb(self.args.server_pid, "VmRSS"))
            await asyncio.sleep(self.args.rss_every)

    async def run(self):
        start = time.perf_counter()
        if self.args.seconds:
            self.deadline = time.monotonic() + self.args.seconds
        sampler = None
        if self.args.server_pid and self.args.rss_every:
            sampler = asyncio.ensure_future(self.sample_rss())
        await asyncio.gather(*(self.client() for _ in range(self.args.clients)))
        if sampler is not None:
            sampler.cancel()
            self.rss_samples.append(rss_mb(self.args.server_pid, "VmRSS"))
        return time.perf_counter() - start


def percentile(values, fraction):
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main():
    args = parse_args()
    with open(args.sentences, encoding="utf-8", newline="") as f:
        sentences = f.read().split("\n")
    if sentences and sentences[-1] == "":
        sentences.pop()
    expected = None
    if args.expect:
        with open(args.expect, encoding="utf-8", newline="") as f:
            expected = f.read().split("\n")
    load = Load(args, sentences, expected)
    seconds = asyncio.run(load.run())
    ms = [1000 * x for x in load.latencies]
    result = {
        "clients": args.clients, "requests": len(ms), "good": load.good, "seconds": round(seconds, 3),
        "sentences_per_second": round(load.good / seconds, 2),
        "p50_ms": round(percentile(ms, 0.50), 2), "p99_ms": round(percentile(ms, 0.99), 2),
        "mean_ms": round(sum(ms) / len(ms), 2) if ms else None,
        "errors": load.errors, "wrong": load.wrong if expected is not None else None,
        "bad_sent": load.bad_ok + sum(load.bad_wrong.values()), "bad_answered_right": load.bad_ok,
        "bad_answered_wrong": load.bad_wrong,
    }
    if args.server_pid:
        result["peak_rss_mb"] = rss_mb(args.server_pid, "VmHWM")
        result["rss_samples_mb"] = load.rss_samples
    if args.row:
        name, beam = args.row
        wrong = "-" if result["wrong"] is None else result["wrong"]
        print(f"| {name} | {beam} | {args.clients} | {load.good} | {result['sentences_per_second']:.1f} "
              f"| {result['p50_ms']:.1f} | {result['p99_ms']:.1f} | {sum(load.errors.values())} | {wrong} "
              f"| {result.get('peak_rss_mb', '')} |")
    else:
        print(json.dumps(result))


if __name__ == "__main__":
    main()
