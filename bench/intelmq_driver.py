"""IntelMQ side of bench/feeds.py: runs in IntelMQ's own virtualenv (never imported by
certhub). Library mode (IntelMQ 3.x ``BotLibSettings``): the Shadowserver parser, then
the taxonomy, ASN-lookup, sieve and deduplicator experts, each bot's
``process_message`` fed the previous bot's output, on the same report files certhub
reads. Prints one JSON object: rows, events out of the chain, seconds.

    python intelmq_driver.py WORKDIR MAX_ROWS_PER_FILE FILE...
"""

import base64
import importlib.util
import json
import os
import shutil
import sys
import time
from pathlib import Path

work = Path(sys.argv[1]).resolve()
max_rows = int(sys.argv[2])
files = [Path(p) for p in sys.argv[3:]]
# IntelMQ finds its state (the Shadowserver schema) below its root directory.
os.environ["INTELMQ_ROOT_DIR"] = str(work / "root")
# The sieve reads the harmonization from IntelMQ's configuration directory: the default.
(work / "root" / "etc").mkdir(parents=True, exist_ok=True)
origin = importlib.util.find_spec("intelmq").origin  # type: ignore[union-attr]
shutil.copy(Path(str(origin)).parent / "etc" / "harmonization.conf", work / "root" / "etc")

from intelmq.bots.experts.asn_lookup.expert import ASNLookupExpertBot  # noqa: E402
from intelmq.bots.experts.deduplicator.expert import DeduplicatorExpertBot  # noqa: E402
from intelmq.bots.experts.sieve.expert import SieveExpertBot  # noqa: E402
from intelmq.bots.experts.taxonomy.expert import TaxonomyExpertBot  # noqa: E402
from intelmq.bots.parsers.shadowserver.parser import ShadowserverParserBot  # noqa: E402
from intelmq.lib.bot import BotLibSettings  # noqa: E402

REDIS_DB = 11
CHUNK_ROWS = 10_000  # a report per 10,000 rows, the header repeated (IntelMQ's chunking)


def reports(path: Path):
    with path.open("rb") as handle:
        header = handle.readline()
        lines: list[bytes] = []
        for read, line in enumerate(handle):
            if read >= max_rows:
                break
            lines.append(line)
            if len(lines) == CHUNK_ROWS:
                yield len(lines), header + b"".join(lines)
                lines = []
        if lines:
            yield len(lines), header + b"".join(lines)


def main() -> None:
    settings = BotLibSettings | {"logging_level": "ERROR"}
    parser = ShadowserverParserBot("shadowserver-parser", settings=settings)
    taxonomy = TaxonomyExpertBot("taxonomy-expert", settings=settings)
    asn = ASNLookupExpertBot(
        "asn-expert", settings=settings | {"database": str(work / "ipasn.dat")}
    )
    sieve = SieveExpertBot("sieve-expert", settings=settings | {"file": str(work / "sieve.txt")})
    dedup = DeduplicatorExpertBot(
        "deduplicator-expert",
        settings=settings
        | {
            "redis_cache_host": "127.0.0.1",
            "redis_cache_port": 6379,
            "redis_cache_db": REDIS_DB,
            "redis_cache_ttl": 86400,
            "filter_type": "whitelist",
            "filter_keys": "feed.name,classification.identifier,source.ip,source.port",
        },
    )
    dedup._Bot__destination_pipeline  # noqa: B018 - the bots are up
    import redis

    cache = redis.Redis(host="127.0.0.1", port=6379, db=REDIS_DB)
    cache.flushdb()
    rows = events = 0
    started = time.perf_counter()
    try:
        for path in files:
            for count, raw in reports(path):
                rows += count
                report = {
                    "__type": "Report",
                    "raw": base64.b64encode(raw).decode(),
                    "extra.file_name": path.name,
                    "feed.name": "Shadowserver",
                }
                out = parser.process_message(report)["output"]
                for bot in (taxonomy, asn, sieve, dedup):
                    out = bot.process_message(*out)["output"] if out else []
                events += len(out)
    finally:
        seconds = time.perf_counter() - started
        cache.flushdb()
    print(json.dumps({"rows": rows, "events": events, "seconds": seconds}))


if __name__ == "__main__":
    main()
