"""Page weight of the dashboard and the work page: every file each page loads, as served.

    python benchmarks/page_weight.py

Requests the pages and their assets through the app (no database needed for static files), with
and without `Accept-Encoding: gzip`, and prints the bytes of each and the totals. Data requests
(JSON) are not counted: they depend on the region and period shown.
"""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from gridbot.api.app import create_app
from gridbot.models.settings import DBSettings, Settings

PAGES = {"dashboard": "/dashboard", "work page": "/work"}


def assets_of(html: str) -> list[str]:
    """The scripts and style sheets a page links."""
    return re.findall(r'(?:src|href)="(/dashboard/assets/[^"]+)"', html)


def main() -> None:
    """Print bytes per file and per page, raw and gzip."""
    settings = Settings(_env_file=None, db=DBSettings(url="sqlite://"))  # type: ignore[call-arg]
    client = TestClient(create_app(settings))
    print(f"{'page':<10} {'file':<44} {'raw bytes':>10} {'gzip bytes':>11}")
    for page, path in PAGES.items():
        raw = client.get(path, headers={"Accept-Encoding": "identity"})
        files = [path, *assets_of(raw.text)]
        total_raw = total_gz = 0
        for f in files:
            plain = client.get(f, headers={"Accept-Encoding": "identity"})
            packed = client.get(f, headers={"Accept-Encoding": "gzip"})
            assert plain.status_code == 200 and packed.status_code == 200, f
            # httpx decodes gzip; the bytes on the wire are the Content-Length of the gzip response
            wire = int(packed.headers.get("content-length", len(packed.content)))
            total_raw += len(plain.content)
            total_gz += wire
            print(f"{page:<10} {f:<44} {len(plain.content):>10,} {wire:>11,}")
        print(f"{page:<10} {'TOTAL (' + str(len(files)) + ' requests)':<44} {total_raw:>10,} {total_gz:>11,}")


if __name__ == "__main__":
    main()
