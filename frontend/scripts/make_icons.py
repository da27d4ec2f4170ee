"""Draws the PWA's PNG icons (frontend/public/) from src/assets/icon.svg in Debian's chromium.

Run from the repository root after changing the SVG: .venv/bin/python frontend/scripts/make_icons.py
"""

from pathlib import Path

from playwright.sync_api import sync_playwright

FRONTEND = Path(__file__).resolve().parent.parent
SVG = (FRONTEND / "src/assets/icon.svg").read_text()
# A maskable icon is cropped to a circle or squircle: full bleed, drawing in the middle 80 %.
MASKABLE = (
    SVG.replace('rx="14"', 'rx="0"')
    .replace("<circle", '<g transform="translate(6.4 6.4) scale(0.8)"><circle', 1)
    .replace("</svg>", "</g></svg>")
)
ICONS = [
    ("icon-192.png", SVG, 192),
    ("icon-512.png", SVG, 512),
    ("icon-maskable-512.png", MASKABLE, 512),
    ("apple-touch-icon.png", MASKABLE, 180),
]


def main() -> None:
    (FRONTEND / "public/icon.svg").write_text(SVG)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"]
        )
        for name, svg, size in ICONS:
            page = browser.new_page(viewport={"width": size, "height": size})
            sized = svg.replace("<svg ", f'<svg width="{size}" height="{size}" ', 1)
            page.set_content(f"<body style='margin:0'>{sized}</body>")
            page.screenshot(path=FRONTEND / "public" / name, omit_background=True)
            page.close()
        browser.close()


if __name__ == "__main__":
    main()
