"""The bare-stack baseline: one FastAPI POST route that reads and parses the JSON body and answers
a small JSON object, served by the very uvicorn call `journeyline serve` makes (one process,
uvloop and httptools when installed, no access log).

    python -m bench.echo --port 8766
"""

from __future__ import annotations

import argparse

import orjson
import uvicorn
from fastapi import FastAPI, Request
from starlette.responses import Response

app = FastAPI(title="echo")


@app.post("/ingest")
async def ingest(request: Request) -> Response:
    body = orjson.loads(await request.body())
    answer = {"status": "ok", "keys": len(body) if isinstance(body, dict) else 0}
    return Response(orjson.dumps(answer), media_type="application/json")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8766)
    args = parser.parse_args()
    # The same call as journeyline.cli.serve: only the application differs.
    uvicorn.run(app, host=args.host, port=args.port, log_level="info", access_log=False)


if __name__ == "__main__":
    main()
