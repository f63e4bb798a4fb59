"""Rewrite ``service/openapi_examples.json`` from the service's own responses for the demo data.

    python openapi/refresh_examples.py && claimdesk openapi

Loads the demo dataset into a throw-away embedded PostgreSQL, starts ``claimdesk serve`` on it,
and keeps what the service answers for Hulusi Akar, the article, his "members remain" claim,
the canonical dispute, the sample review, a revision, the ClaimReview JSON-LD and a page of
the change feed. Run it after changing the demo data or a representation; the tests check
that each example still decodes as its resource.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "service" / "openapi_examples.json"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> int:
    with tempfile.TemporaryDirectory() as data_dir:
        # Reads only: anonymous reading is enough.
        env = {**os.environ, "CLAIMDESK_DATA_DIR": data_dir, "CLAIMDESK_PUBLIC_READ": "true"}
        env.pop("CLAIMDESK_DATABASE_URL", None)
        claimdesk = str(Path(sys.executable).with_name("claimdesk"))
        subprocess.run([claimdesk, "demo"], env=env, check=True, capture_output=True)
        port = free_port()
        server = subprocess.Popen(
            [claimdesk, "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"

        def get(path: str, **query: str) -> Any:
            url = base + path + ("?" + urllib.parse.urlencode(query) if query else "")
            with urllib.request.urlopen(url, timeout=10) as response:
                return json.load(response)

        try:
            for _ in range(300):
                try:
                    get("/ready")
                    break
                except OSError:
                    time.sleep(0.2)
            akar = get("/v1/actors", name="Hulusi Akar")["data"][0]
            source = get("/v1/sources")["data"][0]
            claims = get("/v1/claims", speaker_id=akar["id"], limit="100")["data"]
            claim_id = next(c["id"] for c in claims if "مازالوا" in c["text"])
            claim = get(f"/v1/claims/{claim_id}")
            dispute = get(f"/v1/disputes/{get('/v1/disputes')['data'][0]['id']}")
            review = get(f"/v1/reviews/{get('/v1/reviews')['data'][0]['id']}")
            revision = get(f"/v1/claims/{claim['id']}/revisions")["data"][0]
            claim_review = get(f"/v1/claims/{review['claim_id']}/claim-review")[0]
            changes = get("/v1/changes", types="claim,dispute", limit="3")
        finally:
            server.terminate()
            server.wait(timeout=30)
    examples = {
        "Actor": akar,
        "Source": source,
        "Claim": claim,
        "Dispute": dispute,
        "Review": review,
        "Revision": revision,
        "ClaimReviewLD": claim_review,
        "ChangePage": changes,
    }
    TARGET.write_text(json.dumps(examples, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {TARGET.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
