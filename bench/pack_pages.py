"""How many A4 pages the report pack prints to: the pack for a month, in both languages,
printed by chromium (headless, --print-to-pdf), its PDF's pages counted.

  .venv/bin/python bench/generate_reports.py /tmp/month.sqlite3 -n 20000 --month 2026-11
  .venv/bin/python bench/pack_pages.py /tmp/month.sqlite3 --month 2026-11
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"


def pages(html: Path, pdf: Path) -> int:
    subprocess.run([CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu",
                    "--disable-dev-shm-usage", "--no-pdf-header-footer",
                    f"--print-to-pdf={pdf}", html.resolve().as_uri()],
                   check=True, capture_output=True, timeout=120)
    return len(re.findall(rb"/Type\s*/Page[^s]", pdf.read_bytes()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("database", type=Path)
    parser.add_argument("--month", default="2026-11")
    parser.add_argument("--keep", type=Path, help="a folder to keep the HTML and PDF files in")
    args = parser.parse_args(argv)
    folder = args.keep or Path(tempfile.mkdtemp(prefix="balagh-pack-"))
    folder.mkdir(parents=True, exist_ok=True)
    for language in ("ar", "en"):
        html = folder / f"pack-{language}.html"
        subprocess.run([sys.executable, "-m", "balagh", "report-pack", "--month", args.month,
                        "--language", language, "--database", str(args.database),
                        "-o", str(html)], check=True, capture_output=True)
        print(f"{language}: {pages(html, folder / f'pack-{language}.pdf')} A4 pages ({html})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
