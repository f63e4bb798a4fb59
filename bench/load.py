"""The load generator: wrk (Debian's ``wrk`` package), a separate process, with Lua scripts.

Each endpoint's requests come from a file the benchmark writes: one path a line for reads,
one JSON body a line for POST, ``<claim id> <ETag>`` lines for PATCH (each PATCH sends the
claim's current tag in ``If-Match`` and keeps the tag of the answer for the next one). The
``Authorization`` header is given on wrk's command line. Every script ends by printing one
``BENCH {...}`` line: requests, duration and latency percentiles (microseconds), and errors
(wrk counts a status of 400 and above as an error, and socket errors and timeouts).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

COMMON = r"""
local lines, n, headers = {}, 0, {}
tid = 0  -- each thread's index, set by setup()
local threads = {}
function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end
local function read(file)
  for line in io.lines(file) do lines[#lines + 1] = line end
  for k, v in pairs(wrk.headers) do headers[k] = v end
  n = (tid * 7919) % #lines
end
local function next_line()
  n = n % #lines + 1
  return lines[n]
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests": %d, "duration_us": %d, "p50": %d, "p95": %d, "p99": %d, "max": %d, ' ..
    '"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), latency.max, e.connect, e.read, e.write, e.status, e.timeout))
end
"""

GET = (
    COMMON
    + r"""
function init(args) read(args[1]) end
function request() return wrk.format("GET", next_line(), headers) end
"""
)

POST = (
    COMMON
    + r"""
function init(args)
  read(args[1])
  headers["Content-Type"] = "application/json"
end
function request() return wrk.format("POST", args_path, headers, next_line()) end
"""
)

# Threads take disjoint slices of the claims; a claim comes round again only after the whole
# slice, long after the answer holding its new tag has arrived.
PATCH = (
    COMMON
    + r"""
local ids, tags, kinds, i = {}, {}, {"denial", "doubt", "assertion", "accusation"}, 0
function init(args)
  read(args[1])
  headers["Content-Type"] = "application/json"
  local nthreads = tonumber(args[2])
  for k, line in ipairs(lines) do
    if k % nthreads == tid then
      local id, tag = line:match("^(%S+) (.+)$")
      ids[#ids + 1] = id
      tags[id] = tag
    end
  end
end
function request()
  i = i + 1
  local id = ids[(i - 1) % #ids + 1]
  headers["If-Match"] = tags[id]
  local body = '{"kind": "' .. kinds[math.floor(i / #ids) % 4 + 1] .. '"}'
  return wrk.format("PATCH", "/v1/claims/" .. id, headers, body)
end
function response(status, hdrs, body)
  if status == 200 then
    local id = body:match('"id":"([0-9a-f-]+)"')
    local tag = hdrs["etag"] or hdrs["ETag"]
    if id and tag then tags[id] = tag end
  end
end
"""
)


@dataclass
class Result:
    requests: int
    seconds: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    errors: int

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def available() -> bool:
    return shutil.which("wrk") is not None


def run(
    base: str,
    key: str,
    kind: str,
    data_file: Path,
    *,
    duration: float,
    connections: int,
    threads: int = 1,
    path: str = "/v1/claims",
) -> Result:
    """Drive ``base`` with wrk for ``duration`` seconds; ``kind`` is GET, POST or PATCH."""
    script = data_file.with_suffix(".lua")
    text = {"GET": GET, "POST": POST.replace("args_path", json.dumps(path)), "PATCH": PATCH}
    script.write_text(text[kind])
    out = subprocess.run(
        [
            "wrk",
            "-t",
            str(threads),
            "-c",
            str(connections),
            "-d",
            f"{duration:g}s",
            "--timeout",
            "10s",
            "-H",
            f"Authorization: Bearer {key}",
            "-s",
            str(script),
            base,
            "--",
            str(data_file),
            str(threads),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    line = next((x for x in out.stdout.splitlines() if x.startswith("BENCH ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no result:\n{out.stdout}\n{out.stderr}")
    r = json.loads(line[6:])
    errors = r["connect"] + r["read"] + r["write"] + r["status"] + r["timeout"]
    return Result(
        requests=r["requests"],
        seconds=r["duration_us"] / 1e6,
        p50_ms=r["p50"] / 1000,
        p95_ms=r["p95"] / 1000,
        p99_ms=r["p99"] / 1000,
        max_ms=r["max"] / 1000,
        errors=errors,
    )
