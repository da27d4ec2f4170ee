# ruff: noqa: E501
"""Generate pairs.jsonl, the labelled near-duplicate calibration set (issue 16, item 1).

Run from the repository root:

    .venv/bin/python duplicates/labelled/make_pairs.py

Deterministic and offline: a fixed random seed, fixed package and function lists, the hand-written
texts below. At generation time it reads Debian package descriptions from the local apt lists
(`apt-cache show`) and docstrings from the running Python's standard library, so the exact output
depends on the apt lists and the Python version (see PROVENANCE.md for what was used). The committed
pairs.jsonl is the artifact the tests use; this script documents how it was made.
"""

from __future__ import annotations

import importlib
import inspect
import json
import random
import re
import subprocess
import sys
from pathlib import Path

OUT = Path(__file__).with_name("pairs.jsonl")
SEED = 16

LABELS = {
    "paraphrase": "duplicate",
    "same_link_other_comment": "duplicate",
    "url_variant": "duplicate",
    "small_edit": "duplicate",
    "translation": "duplicate",
    "half": "duplicate",
    "quarter": "related",
    "related_hard_negative": "related",
    "package_dev_sibling": "related",
    "unrelated": "different",
}


def mem(content: str, title: str = "", url: str = "") -> dict:
    return {"content": content.strip(), "title": title, "url": url}


# --------------------------------------------------------------------------------------------
# Sources: Debian package descriptions and Python docstrings
# --------------------------------------------------------------------------------------------


def apt_description(pkg: str) -> tuple[str, str]:
    """(short description, long description) of `pkg`.

    Installed packages: from the dpkg status database, which carries the full description. Others:
    from the apt lists (`apt-cache show`), which on this machine carry only the short description
    (no Translation-en files), so the long part is empty.
    """
    installed = subprocess.run(
        ["dpkg-query", "-W", "-f=${db:Status-Status}\n${Description}", pkg],
        capture_output=True,
        text=True,
        check=False,
    )
    if installed.returncode == 0 and installed.stdout.startswith("installed\n"):
        lines = ["Description: " + installed.stdout.split("\n", 1)[1]]
        lines = "\n".join(lines).splitlines()
    else:
        out = subprocess.run(
            ["apt-cache", "show", "--no-all-versions", pkg],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        lines = out.splitlines()
    short, body, inside = "", [], False
    for line in lines:
        if line.startswith("Description:") or line.startswith("Description-en:"):
            short = line.split(":", 1)[1].strip()
            inside = True
            continue
        if inside:
            if not line.startswith(" "):
                break
            text = line[1:]
            body.append("" if text.strip() == "." else text.rstrip())
    paragraphs: list[str] = []
    cur: list[str] = []
    for text in body:
        if text == "":
            if cur:
                paragraphs.append(" ".join(s.strip() for s in cur))
                cur = []
        else:
            cur.append(text)
    if cur:
        paragraphs.append(" ".join(s.strip() for s in cur))
    if not short:
        raise SystemExit(f"no description for {pkg}")
    return short, "\n\n".join(paragraphs)


def package_memory(pkg: str) -> dict:
    short, long = apt_description(pkg)
    return mem(f"{pkg}: {short}\n\n{long}" if long else f"{pkg}: {short}", title=pkg)


def docstring(dotted: str) -> str:
    parts = dotted.split(".")
    obj = None
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
            break
        except ImportError:
            continue
    for attr in parts[i:]:
        obj = getattr(obj, attr)
    doc = inspect.getdoc(obj)
    if not doc:
        raise SystemExit(f"no docstring for {dotted}")
    return doc


# runtime library -> its -dev sibling (both installed here, Debian 12 "bookworm")
DEV_SIBLINGS = [
    ("libssl3", "libssl-dev"),
    ("libxml2", "libxml2-dev"),
    ("libpq5", "libpq-dev"),
    ("libsqlite3-0", "libsqlite3-dev"),
    ("libpng16-16", "libpng-dev"),
    ("libjpeg62-turbo", "libjpeg62-turbo-dev"),
    ("libyaml-0-2", "libyaml-dev"),
    ("libffi8", "libffi-dev"),
    ("libgmp10", "libgmp-dev"),
    ("liblzma5", "liblzma-dev"),
    ("libbz2-1.0", "libbz2-dev"),
    ("libreadline8", "libreadline-dev"),
    ("libexpat1", "libexpat1-dev"),
    ("libfreetype6", "libfreetype-dev"),
    ("libicu72", "libicu-dev"),
    ("libmagic1", "libmagic-dev"),
    ("libbrotli1", "libbrotli-dev"),
    ("libgcrypt20", "libgcrypt20-dev"),
    ("libgpg-error0", "libgpg-error-dev"),
    ("libidn2-0", "libidn2-dev"),
    ("libtasn1-6", "libtasn1-6-dev"),
    ("libp11-kit0", "libp11-kit-dev"),
    ("libnspr4", "libnspr4-dev"),
    ("libnss3", "libnss3-dev"),
    ("libfontconfig1", "libfontconfig-dev"),
    ("libx11-6", "libx11-dev"),
    ("libxcb1", "libxcb1-dev"),
    ("libxext6", "libxext-dev"),
    ("libxft2", "libxft-dev"),
    ("libxslt1.1", "libxslt1-dev"),
    ("libtirpc3", "libtirpc-dev"),
    ("libuuid1", "uuid-dev"),
    ("libnettle8", "nettle-dev"),
    ("libz3-4", "libz3-dev"),
    ("libpython3.11", "python3.11-dev"),
    ("libtcl8.6", "tcl8.6-dev"),
]

# Packages whose long descriptions feed the half/quarter/small-edit/unrelated pools
PACKAGES_LONG = [
    "git",
    "curl",
    "tmux",
    "vim",
    "postgresql-15",
    "sqlite3",
    "jq",
    "gnupg",
    "openssh-client",
    "openssl",
    "make",
    "gcc",
    "perl",
    "python3",
    "wget",
    "xz-utils",
    "bzip2",
    "tar",
    "coreutils",
    "findutils",
    "grep",
    "sed",
    "less",
    "procps",
    "ca-certificates",
]

DOCSTRINGS_LONG = [
    "json.dumps",
    "json.loads",
    "subprocess.run",
    "subprocess.Popen",
    "functools.lru_cache",
    "os.walk",
    "shutil.copytree",
    "shutil.rmtree",
    "shutil.move",
    "collections.namedtuple",
    "itertools.product",
    "tempfile.mkstemp",
    "tempfile.NamedTemporaryFile",
    "heapq.merge",
    "logging.basicConfig",
    "dataclasses.dataclass",
    "dataclasses.field",
    "urllib.parse.urlsplit",
    "urllib.parse.urlencode",
    "urllib.parse.parse_qs",
    "random.sample",
    "threading.Thread.join",
    "asyncio.gather",
    "difflib.SequenceMatcher",
    "difflib.get_close_matches",
    "math.isclose",
]

# --------------------------------------------------------------------------------------------
# Hand-written texts (project licence)
# --------------------------------------------------------------------------------------------

LONG_NOTES = [
    "Retro notes from the March sprint. What went well: the import pipeline finally handles large CSV files without running out of memory, and the on-call rotation was quiet. What did not: we underestimated the migration for the billing tables by about a week, and two reviews sat untouched for four days. Actions: split migrations into smaller steps, add a review-age alert in the team channel, and pair on the next schema change instead of handing it over at the end.",
    "Ideas for the garden this year. Move the tomatoes to the south bed where they get sun all afternoon, and put the lettuce in the shadier corner by the fence so it does not bolt in July. Try a second sowing of beans in early June. Build a simple compost bin from the old pallets behind the shed, and ask the neighbour whether we can share the rain barrel. Keep a notebook of what was planted where, because last year I forgot and planted potatoes in the same spot twice.",
    "How I set up the home backup: the laptop runs a nightly job at 02:00 that copies the documents and photos folders to the NAS with an incremental tool, keeping seven daily, four weekly and twelve monthly snapshots. Once a week the NAS pushes an encrypted copy to a cloud bucket. The encryption key lives in the password manager and on a paper copy in the drawer with the passports. Twice a year I restore a random folder to check that the backups actually work.",
    "Book notes on a history of timekeeping. Before railways, every town kept its own local time, set by the sun at noon, so clocks in neighbouring cities could differ by several minutes. Railway companies needed consistent timetables and pushed for standard time. The author argues that the shift changed how people thought about punctuality, because being late became measurable against a shared clock rather than a local church bell.",
    "Plan for moving flats at the end of the month. Book the van for Saturday morning and ask two friends to help carry furniture. Cancel the old internet contract with one month notice and order the new one now, because installation takes two weeks. Change the address at the bank, the insurance and the doctor. Take meter readings on the day of the move and photograph them. Pack the kitchen last and label every box with the room it goes to.",
    "Interview notes with a candidate for the backend role. Strong on databases: explained index choices clearly and spotted the missing index in the exercise quickly. Less experience with queues and background jobs, but asked good questions about retries and idempotency. Communication was calm and precise. Would like a second conversation focused on system design, and a short chat with the team lead about on-call expectations before we make an offer.",
    "Trip idea for the autumn holiday: take the night train to Vienna, spend two days in museums and coffee houses, then continue by regional train to Graz and walk in the hills nearby. Hotels near the station are cheaper and fine for a short stay. Book the sleeper cabin early because it sells out. Bring a light rain jacket and comfortable shoes, and check whether the museum pass covers the modern art collection.",
    "Notes from the talk about observability. The speaker argued that logs, metrics and traces should share the same identifiers so you can jump from a slow request in a dashboard to the exact log lines that explain it. Sampling traces is fine for throughput, but errors should always be kept. Alerts should be on symptoms that users feel, like latency and error rate, not on causes like CPU usage, which are better suited to dashboards.",
]

PARAPHRASES = [
    (
        "Remember to buy milk and eggs on the way home.",
        "On the way back home, pick up eggs and milk.",
    ),
    (
        "The meeting with Anna moved to Thursday at 10.",
        "Anna's meeting has been rescheduled to 10 o'clock on Thursday.",
    ),
    (
        "Idea: a browser extension that saves the selected text as a note with the page link.",
        "Idea for a browser add-on: highlight text on a page and store it as a note together with the URL.",
    ),
    (
        "Paul's birthday is on 14 May, he likes jazz records.",
        "Paul was born on May 14th; he's into jazz vinyl.",
    ),
    (
        "Wi-Fi password for the holiday flat is on the fridge magnet.",
        "The holiday apartment's Wi-Fi password is written on the magnet on the fridge.",
    ),
    (
        "Quote: 'Simple things should be simple, complex things should be possible.' - Alan Kay",
        "Alan Kay said that simple things ought to be simple and complex things ought to be possible.",
    ),
    (
        "Car needs an oil change before the trip to the mountains.",
        "Before we drive to the mountains, get the car's oil changed.",
    ),
    (
        "Call the insurance about the broken window claim.",
        "Phone the insurer regarding the claim for the smashed window.",
    ),
    (
        "The library closes early on Saturdays, at 1 pm.",
        "On Saturdays the library shuts at 13:00, earlier than usual.",
    ),
    (
        "Don't water the cactus more than once a month in winter.",
        "In winter the cactus should get water at most monthly.",
    ),
    (
        "Postgres: VACUUM reclaims space from dead tuples; ANALYZE updates planner statistics.",
        "In PostgreSQL, VACUUM frees storage held by dead rows, and ANALYZE refreshes the statistics the query planner uses.",
    ),
    (
        "Lena recommended the novel 'The Remains of the Day'.",
        "Book recommendation from Lena: The Remains of the Day.",
    ),
    (
        "Renew passport before it expires in September.",
        "My passport runs out in September, need to get it renewed before then.",
    ),
    (
        "The bakery on Elm Street has the best rye bread in town.",
        "Best rye loaf in the city: the bakery on Elm Street.",
    ),
    (
        "Kids' school photos can be ordered online until Friday.",
        "Deadline for ordering the children's school pictures on the website is Friday.",
    ),
    (
        "Use a timeout on every outbound HTTP call; the default waits forever.",
        "Always set a timeout on outgoing HTTP requests, because by default they can hang indefinitely.",
    ),
    (
        "Tax return documents: salary statements, donation receipts, the childcare invoice.",
        "For the tax return I need the payslip summaries, the receipts for donations and the invoice from the daycare.",
    ),
    (
        "Try running 20 minutes three times a week, then increase slowly.",
        "Plan: jog for twenty minutes, three days a week, and build up gradually.",
    ),
    (
        "The landlord will fix the heating on Monday morning.",
        "Monday morning the landlord is coming to repair the heater.",
    ),
    (
        "Grandma's soup: simmer the bones for at least three hours.",
        "For grandmother's soup the bones need to simmer three hours or more.",
    ),
    (
        "Feature idea: let users snooze a reminder for a week with one tap.",
        "Possible feature: a one-tap option to postpone a reminder by seven days.",
    ),
    (
        "Cancel the streaming subscription, we never use it.",
        "We don't watch anything on that streaming service, so unsubscribe.",
    ),
    (
        "The team agreed to release every second Tuesday.",
        "We decided as a team to ship a release every other Tuesday.",
    ),
    (
        "Good coffee grinder: burr grinders give a more even grind than blade ones.",
        "Burr coffee grinders produce a more uniform grind than blade grinders do.",
    ),
    (
        "Parking at the stadium is full on match days; take the tram.",
        "On game days the stadium car park fills up, so go by tram instead.",
    ),
    (
        "Thought: most of my stress comes from unclear priorities, not from the amount of work.",
        "I notice my stress is caused less by the volume of work than by not knowing what matters most.",
    ),
    (
        "The vet said the dog should lose two kilos.",
        "According to the vet, the dog needs to drop about 2 kg.",
    ),
    (
        "Password manager recovery codes are in the safe.",
        "The recovery codes for the password manager are kept in the safe.",
    ),
    (
        "Bring a reusable bag; the market charges for plastic.",
        "Take your own shopping bag, the market makes you pay for plastic ones.",
    ),
    (
        "Git tip: 'git switch -' goes back to the previous branch.",
        "In git, running git switch with a dash returns you to the branch you were on before.",
    ),
]

# (package, my rewrite of its short description)
PACKAGE_PARAPHRASES = [
    (
        "jq",
        "jq is a small command-line tool for processing JSON, a lightweight and flexible JSON processor.",
    ),
    ("rsync", "rsync: a quick, flexible tool for copying files to and from remote machines."),
    ("tmux", "tmux multiplexes terminals: several terminal sessions inside one window."),
    ("htop", "htop is an interactive process viewer for the terminal."),
    (
        "ripgrep",
        "ripgrep recursively searches directories for a regex pattern, respecting gitignore rules.",
    ),
    (
        "graphviz",
        "Graphviz: a collection of tools to draw graphs and manipulate them in various formats.",
    ),
]

SAME_LINK = [
    (
        "https://blog.example.com/2024/03/sourdough-starter-guide",
        "A beginner's guide to sourdough starter",
        "Finally a starter guide that explains the feeding ratios. Try it this weekend.",
        "Sourdough article - the part about keeping the starter in the fridge between bakes is useful.",
    ),
    (
        "https://www.example.org/articles/why-sleep-matters",
        "Why sleep matters more than you think",
        "Read later",
        "Good summary of sleep research; send to Tom who keeps working until 2am.",
    ),
    (
        "https://docs.example.net/postgres/indexes/partial",
        "Partial indexes",
        "Partial indexes could fix the slow query on active users.",
        "Postgres docs on partial indexes",
    ),
    (
        "https://news.example.com/2024/05/12/city-bike-lanes-plan",
        "City unveils new bike lane plan",
        "The new bike lanes go right past our street!",
        "Council bike lane plan - check the map for the route near school.",
    ),
    (
        "https://www.example.com/recipes/lentil-dahl",
        "Easy red lentil dahl",
        "Dahl recipe, cheap and quick, good for weeknights.",
        "Made this tonight, add more ginger next time.",
    ),
    (
        "https://video.example.org/watch?v=a8Kf3xQ",
        "Talk: Designing data-intensive applications",
        "Great talk on replication and partitioning.",
        "Watch the second half again, the section on consensus.",
    ),
    (
        "https://example.org/jobs/senior-backend-engineer",
        "Senior Backend Engineer",
        "Job ad for Marta? She was looking for a Python role.",
        "Interesting job posting, remote possible.",
    ),
    (
        "https://shop.example.com/products/ergonomic-chair-x200",
        "Ergonomic chair X200",
        "Chair for the home office, on sale until the end of the month.",
        "Back pain - maybe this chair. Compare with the one from the office supplier.",
    ),
    (
        "https://www.example.net/guides/hiking-the-west-ridge",
        "Hiking the West Ridge",
        "Trail for the summer holiday, about 6 hours.",
        "West ridge hike - bring enough water, no huts on the way.",
    ),
    (
        "https://research.example.edu/papers/2023/attention-sinks.pdf",
        "Efficient streaming language models with attention sinks",
        "Paper about attention sinks, relevant for long contexts.",
        "Read this paper for the reading group on Thursday.",
    ),
    (
        "https://example.com/podcast/episode-112",
        "Episode 112: Building habits that stick",
        "Podcast about habits, recommended by Julia.",
        "The tip about habit stacking at minute 20 is worth trying.",
    ),
    (
        "https://github.example.com/acme/widgets/issues/482",
        "Crash when exporting large widgets",
        "Same crash as our customer report - link in the ticket.",
        "Upstream issue for the export crash; watch for a fix.",
    ),
    (
        "https://www.example.org/museum/exhibitions/light-and-shadow",
        "Exhibition: Light and Shadow",
        "Exhibition until June, free on Sundays.",
        "Go with the kids - there is a workshop for children.",
    ),
    (
        "https://maps.example.com/place/harbour-fish-restaurant",
        "Harbour Fish Restaurant",
        "Lovely fish place by the harbour, book a table outside.",
        "Restaurant for Mum's birthday dinner?",
    ),
    (
        "https://example.net/learn/css-grid-in-15-minutes",
        "CSS grid in 15 minutes",
        "Quick CSS grid intro.",
        "Use this for the layout of the settings page.",
    ),
    (
        "https://www.example.com/blog/the-case-for-boring-technology",
        "The case for boring technology",
        "Classic essay, still true.",
        "Share with the team before the architecture discussion.",
    ),
    (
        "https://example.org/events/2024/community-cleanup-day",
        "Community cleanup day",
        "Cleanup day in the park on April 20, bring gloves.",
        "Sign up the family for the park cleanup.",
    ),
    (
        "https://tickets.example.com/concerts/string-quartet-spring",
        "String quartet - spring concert",
        "Concert tickets go on sale Monday 9am.",
        "Quartet concert, Dad would love this.",
    ),
    (
        "https://www.example.net/health/knee-exercises-after-injury",
        "Knee exercises after injury",
        "Physio recommended exercises similar to these.",
        "Do exercises 2, 4 and 5 every morning.",
    ),
    (
        "https://example.com/wiki/Great_Barrier_Reef",
        "Great Barrier Reef",
        "For Sam's school project on coral reefs.",
        "Interesting: the reef is visible from space.",
    ),
    (
        "https://blog.example.org/posts/testing-without-mocks",
        "Testing without mocks",
        "Good argument for fakes over mocks.",
        "Article on testing - relevant to our flaky test suite.",
    ),
    (
        "https://www.example.com/deals/rail-pass-summer",
        "Summer rail pass",
        "Rail pass for the summer, unlimited regional trains.",
        "Cheaper than the car for the trip to the lakes?",
    ),
    (
        "https://example.org/forum/thread/9931-fixing-a-dripping-tap",
        "Fixing a dripping tap",
        "How to replace the washer in the bathroom tap.",
        "Tap repair - need a 13 mm spanner.",
    ),
    (
        "https://learn.example.net/courses/intro-to-statistics",
        "Intro to statistics",
        "Free statistics course, 6 weeks.",
        "Start this course in January, 2 hours a week.",
    ),
    (
        "https://www.example.org/reports/2023-climate-summary",
        "2023 climate summary",
        "Annual climate report, charts on page 12.",
        "Use the temperature chart in the presentation.",
    ),
    (
        "https://example.com/apps/budget-planner",
        "Budget planner app",
        "Budget app that imports bank statements.",
        "Maybe replace the spreadsheet with this.",
    ),
    (
        "https://photos.example.net/albums/summer-2023",
        "Summer 2023 album",
        "Holiday photos from the coast.",
        "Album link to send to Grandma.",
    ),
    (
        "https://www.example.com/guides/repotting-orchids",
        "Repotting orchids",
        "Orchid repotting, do it after flowering.",
        "Use bark mix, not soil - from this guide.",
    ),
    (
        "https://example.org/talks/2022/async-python-in-practice",
        "Async Python in practice",
        "Talk on asyncio pitfalls.",
        "The part about blocking calls in the event loop explains our bug.",
    ),
    (
        "https://www.example.net/city/waste-collection-calendar",
        "Waste collection calendar",
        "Bin collection dates for our street.",
        "Paper goes out every second Wednesday - see calendar.",
    ),
]

# base URLs and the comment saved with them; variants are generated below
URL_VARIANT_BASE = [
    ("https://www.example.org/post?id=3", "Post about keeping a work journal"),
    ("https://example.com/2024/02/15/remote-work-tips/", "Remote work tips"),
    (
        "https://blog.example.net/minimalist-packing-list",
        "Packing list for a week with carry-on only",
    ),
    ("https://www.example.com/recipes/shakshuka/", "Shakshuka recipe"),
    ("https://example.org/guides/learn-touch-typing", "Touch typing guide"),
    (
        "https://www.example.net/articles/compound-interest-explained",
        "Compound interest explained simply",
    ),
    (
        "https://news.example.org/science/2024/new-exoplanet",
        "New exoplanet found in the habitable zone",
    ),
    ("https://example.com/docs/getting-started/", "Getting started docs for the API"),
    ("https://www.example.org/reviews/best-budget-headphones-2024", "Headphone review roundup"),
    ("https://example.net/blog/2023/11/why-we-moved-to-monorepo", "Why we moved to a monorepo"),
    ("https://www.example.com/events/jazz-night", "Jazz night at the community hall"),
    ("https://example.org/courses/python-for-beginners/lesson-3", "Python lesson 3: loops"),
    ("https://www.example.net/diy/build-a-raised-bed/", "Build a raised garden bed"),
    ("https://shop.example.org/item/12345", "Kettle with temperature control"),
    ("https://example.com/search?q=hiking+boots", "Search results for hiking boots"),
    ("https://www.example.org/essays/on-attention", "Essay on attention"),
    ("https://example.net/tools/regex-tester", "Online regex tester"),
    ("https://www.example.com/travel/lisbon-in-three-days", "Lisbon in three days"),
    ("https://example.org/podcasts/deep-work-interview/", "Interview about deep work"),
    ("https://www.example.net/kids/science-experiments-at-home", "Science experiments for kids"),
    (
        "https://example.com/forum/topic/4412",
        "Forum thread on fixing the washing machine error E21",
    ),
    ("https://www.example.org/health/sleep-hygiene/", "Sleep hygiene checklist"),
    ("https://example.net/finance/pension-calculator", "Pension calculator"),
    ("https://www.example.com/blog/writing-good-commit-messages", "Writing good commit messages"),
    ("https://example.org/library/catalogue?book=9780141182803", "Library catalogue entry"),
    ("https://www.example.net/music/learn-guitar-chords/", "Guitar chord chart"),
    ("https://example.com/watch?v=Zx81kP", "Video: how to sharpen a kitchen knife"),
    ("https://www.example.org/city/permits/parking", "Residential parking permit application"),
    ("https://example.net/2022/08/the-joy-of-slow-travel/", "The joy of slow travel"),
    ("https://www.example.com/tutorials/docker-compose-basics", "Docker compose basics"),
    ("https://example.org/recipes/vegan-brownies?servings=8", "Vegan brownies"),
    ("https://www.example.net/maps/cycle-route-river-path", "Cycle route along the river"),
]

TRACKING = [
    "utm_source=newsletter&utm_medium=email&utm_campaign=weekly",
    "utm_source=x",
    "utm_source=mastodon&utm_medium=social",
    "fbclid=IwAR0abc123",
    "gclid=Cj0KCQiA",
    "ref=homepage",
    "utm_content=footer&utm_term=link",
    "mc_eid=5f2a1b",
]

TRANSLATIONS = [
    (
        "de",
        "The dentist appointment is on Tuesday at nine.",
        "Der Zahnarzttermin ist am Dienstag um neun.",
    ),
    (
        "fr",
        "Buy bread, cheese and a bottle of wine for tonight.",
        "Acheter du pain, du fromage et une bouteille de vin pour ce soir.",
    ),
    (
        "es",
        "Call grandma on Sunday, it's her birthday.",
        "Llamar a la abuela el domingo, es su cumpleaños.",
    ),
    (
        "de",
        "The train to Munich leaves from platform 7.",
        "Der Zug nach München fährt von Gleis 7 ab.",
    ),
    (
        "fr",
        "Idea: a shared shopping list for the whole family.",
        "Idée : une liste de courses partagée pour toute la famille.",
    ),
    ("es", "The keys are under the blue flower pot.", "Las llaves están debajo de la maceta azul."),
    ("de", "Never deploy on a Friday afternoon.", "Niemals am Freitagnachmittag deployen."),
    (
        "fr",
        "The museum is free on the first Sunday of the month.",
        "Le musée est gratuit le premier dimanche du mois.",
    ),
    (
        "es",
        "Water the plants every three days while we are away.",
        "Regar las plantas cada tres días mientras estamos fuera.",
    ),
    (
        "de",
        "Quote: The best time to plant a tree was twenty years ago. The second best time is now.",
        "Zitat: Die beste Zeit, einen Baum zu pflanzen, war vor zwanzig Jahren. Die zweitbeste Zeit ist jetzt.",
    ),
    (
        "fr",
        "Return the library books before the 15th.",
        "Rendre les livres de la bibliothèque avant le 15.",
    ),
    (
        "es",
        "The meeting with the accountant is next Wednesday at 4 pm.",
        "La reunión con el contador es el próximo miércoles a las 16:00.",
    ),
    (
        "de",
        "Ask the neighbour to feed the cat while we are on holiday.",
        "Die Nachbarin bitten, die Katze zu füttern, während wir im Urlaub sind.",
    ),
    (
        "fr",
        "The password for the guest network changes every month.",
        "Le mot de passe du réseau invité change chaque mois.",
    ),
    (
        "es",
        "Recipe tip: toast the cumin seeds before grinding them.",
        "Consejo de receta: tostar las semillas de comino antes de molerlas.",
    ),
    (
        "de",
        "Book the hotel in Vienna for three nights in October.",
        "Das Hotel in Wien für drei Nächte im Oktober buchen.",
    ),
    (
        "fr",
        "My sister's flight lands at 6:40 on Saturday morning.",
        "Le vol de ma sœur atterrit à 6 h 40 samedi matin.",
    ),
    (
        "es",
        "Take the umbrella, rain is forecast for the afternoon.",
        "Llevar el paraguas, se espera lluvia por la tarde.",
    ),
    (
        "de",
        "The heating engineer comes on Thursday between 8 and 12.",
        "Der Heizungsmonteur kommt am Donnerstag zwischen 8 und 12 Uhr.",
    ),
    (
        "fr",
        "Read the chapter on photosynthesis for the biology test.",
        "Lire le chapitre sur la photosynthèse pour le contrôle de biologie.",
    ),
    (
        "es",
        "Idea for a gift: a cooking class for two.",
        "Idea de regalo: una clase de cocina para dos.",
    ),
    (
        "de",
        "Renew the car insurance before the end of November.",
        "Die Autoversicherung vor Ende November verlängern.",
    ),
    ("fr", "The bakery is closed on Mondays.", "La boulangerie est fermée le lundi."),
    (
        "es",
        "Send the invoice to the client by Friday.",
        "Enviar la factura al cliente antes del viernes.",
    ),
    (
        "de",
        "Tip: a pinch of salt makes coffee less bitter.",
        "Tipp: Eine Prise Salz macht Kaffee weniger bitter.",
    ),
    (
        "fr",
        "Pick up the kids from football practice at half past five.",
        "Récupérer les enfants à l'entraînement de foot à dix-sept heures trente.",
    ),
    (
        "es",
        "The doctor said to rest the knee for two weeks.",
        "El médico dijo que hay que descansar la rodilla durante dos semanas.",
    ),
    (
        "de",
        "Back up the photos from the phone to the external drive.",
        "Die Fotos vom Handy auf die externe Festplatte sichern.",
    ),
    (
        "fr",
        "The concert starts at eight, doors open at seven.",
        "Le concert commence à vingt heures, ouverture des portes à dix-neuf heures.",
    ),
    (
        "es",
        "Learn twenty new words of vocabulary every week.",
        "Aprender veinte palabras nuevas de vocabulario cada semana.",
    ),
    (
        "de",
        "Our wedding anniversary is on 3 June; reserve a table at the Italian place.",
        "Unser Hochzeitstag ist am 3. Juni; einen Tisch beim Italiener reservieren.",
    ),
    (
        "fr",
        "Meeting notes: the budget is approved, the launch moves to March.",
        "Notes de réunion : le budget est approuvé, le lancement est repoussé à mars.",
    ),
]

HARD_NEGATIVES = [
    (
        "Dentist appointment Tuesday 12 March at 9:00, Dr. Weber, check-up.",
        "Dentist appointment Thursday 4 April at 15:30, Dr. Weber, filling.",
    ),
    ("Dentist: cleaning on 2 May at 8:30.", "Dentist for Mia: first check-up on 17 May at 14:00."),
    (
        "Recipe: tomato soup - roast tomatoes with garlic and onion, blend with stock, finish with basil.",
        "Recipe: tomato salad - slice ripe tomatoes, add red onion, olive oil, salt and basil.",
    ),
    (
        "Lemon drizzle cake: 225 g butter, 225 g sugar, 4 eggs, zest of 2 lemons, drizzle of lemon juice and icing sugar.",
        "Lemon chicken: marinate thighs in lemon juice, garlic and oregano, roast 40 minutes at 200 degrees.",
    ),
    (
        "Chickpea curry with spinach and coconut milk, serve with rice.",
        "Hummus: blend chickpeas, tahini, lemon, garlic and a little ice water.",
    ),
    (
        "Flight to Lisbon on 3 July, departs 07:15, seat 14A.",
        "Flight back from Lisbon on 10 July, departs 19:40, seat 22C.",
    ),
    ("Paul's birthday: 14 May, likes jazz.", "Pauline's birthday: 14 March, likes gardening."),
    (
        "Meeting with Anna about the Q3 budget, Thursday 10:00.",
        "Meeting with Anna about hiring a designer, Friday 14:00.",
    ),
    (
        "Bug: export to CSV drops the last row when the file has no trailing newline.",
        "Bug: export to CSV writes dates in US format regardless of the locale setting.",
    ),
    (
        "Book: 'The Remains of the Day' by Kazuo Ishiguro - recommended by Lena.",
        "Book: 'Never Let Me Go' by Kazuo Ishiguro - borrowed from the library.",
    ),
    (
        "Car service booked for 20 September: oil change and brake check.",
        "Car inspection (MOT) due on 15 January, book a slot in December.",
    ),
    (
        "Parent-teacher meeting for Sam on Monday at 17:00, room 12.",
        "Parent-teacher meeting for Mia on Wednesday at 16:30, room 4.",
    ),
    (
        "Running plan week 1: 3 x 20 minutes easy.",
        "Running plan week 6: 2 x 35 minutes easy, 1 x intervals 6 x 400 m.",
    ),
    (
        "Pay the electricity bill for March, 84.20 EUR.",
        "Pay the water bill for the first quarter, 61.75 EUR.",
    ),
    (
        "Idea: app feature to snooze a reminder for a week.",
        "Idea: app feature to repeat a reminder every weekday.",
    ),
    (
        "Pizza dough: 500 g flour, 325 ml water, 10 g salt, 3 g yeast, rest 24 hours in the fridge.",
        "Focaccia: 500 g flour, 400 ml water, 10 g salt, 5 g yeast, lots of olive oil, rosemary on top.",
    ),
    (
        "Vet appointment for the dog: vaccination on 6 June.",
        "Vet appointment for the cat: dental check on 19 June.",
    ),
    (
        "Postgres tip: use a partial index for queries on active rows only.",
        "Postgres tip: use a covering index with INCLUDE to avoid heap lookups.",
    ),
    (
        "Hotel in Vienna: 12-15 October, near the main station.",
        "Hotel in Graz: 15-17 October, in the old town.",
    ),
    ("Gift idea for Mum: a cooking class.", "Gift idea for Dad: a cooking knife."),
    (
        "Team lunch on Friday at the Thai place.",
        "Team dinner next Friday at the Thai place to celebrate the release.",
    ),
    ("Haircut on Saturday 10:00.", "Haircut for Sam on Saturday 11:30."),
    (
        "Quote: 'Premature optimization is the root of all evil.' - Donald Knuth",
        "Quote: 'Beware of bugs in the above code; I have only proved it correct, not tried it.' - Donald Knuth",
    ),
    (
        "Banana bread: 3 ripe bananas, 75 g melted butter, 150 g sugar, 1 egg, 190 g flour, 1 tsp baking soda.",
        "Banana smoothie: 1 banana, a handful of oats, 250 ml milk, a spoon of peanut butter.",
    ),
    (
        "Train tickets Berlin-Hamburg on 5 April, 08:34, coach 7.",
        "Train tickets Hamburg-Berlin on 7 April, 18:06, coach 3.",
    ),
    (
        "Doctor: blood test results on 22 February, all normal except vitamin D.",
        "Doctor: blood test booked for 10 August, fasting from midnight.",
    ),
    (
        "Release 2.3 notes: faster search, new export dialog.",
        "Release 2.4 notes: offline mode, bug fixes in sync.",
    ),
    (
        "Kids' swimming lessons start on 8 January, Tuesdays 16:00.",
        "Kids' piano lessons start on 10 January, Thursdays 17:00.",
    ),
    (
        "Password policy at work: at least 12 characters, rotated yearly.",
        "Password policy for the home router admin page: changed on setup, stored in the manager.",
    ),
    (
        "Garden: plant tomatoes after mid-May.",
        "Garden: plant garlic cloves in October for next summer.",
    ),
    (
        "Conference talk proposal about testing without mocks, deadline 1 March.",
        "Conference talk proposal about async Python pitfalls, deadline 15 April.",
    ),
    (
        "Apple crumble: apples, cinnamon, oats, butter, brown sugar; bake 35 minutes.",
        "Apple sauce: cook apples with a little water and cinnamon, mash, no sugar needed.",
    ),
    (
        "Insurance claim for the broken window, reference 2024-0117.",
        "Insurance claim for the water damage in the bathroom, reference 2023-0892.",
    ),
    (
        "Reading group: chapter 3 of the statistics book on Thursday.",
        "Reading group: chapter 4 of the statistics book next Thursday, with exercises.",
    ),
]

DOCSTRING_NEGATIVES = [
    ("json.dump", "json.dumps"),
    ("json.load", "json.loads"),
    ("shutil.copy", "shutil.copy2"),
    ("os.mkdir", "os.makedirs"),
    ("math.floor", "math.ceil"),
    ("itertools.takewhile", "itertools.dropwhile"),
    ("heapq.heappush", "heapq.heappop"),
    ("os.path.basename", "os.path.dirname"),
    ("bisect.bisect_left", "bisect.bisect_right"),
    ("re.match", "re.search"),
]

SHORT_NOTES = [
    "Buy batteries for the smoke detector.",
    "Gate code for the courtyard: ask the caretaker, changes monthly.",
    "Idea: weekly review every Friday at 4, 20 minutes, no more.",
    "The blue folder in the cupboard has all warranty papers.",
    "Sam's shoe size is now 34.",
    "Reminder: the recycling centre is closed on public holidays.",
    "Thought: write the test first when the bug report is clear.",
    "Quote: 'We are what we repeatedly do.' - often attributed to Aristotle, actually Will Durant.",
    "Plumber's number is in the contacts under 'Heating and water'.",
    "Try the new Vietnamese place near the station, good pho.",
    "The printer needs the black cartridge 305XL.",
    "Task: clean out the garage before the flea market on the 12th.",
]

# --------------------------------------------------------------------------------------------
# Transformations
# --------------------------------------------------------------------------------------------


def words_slice(text: str, start: float, end: float) -> str:
    """The words from fraction `start` to `end` of `text`, keeping its original line breaks."""
    spans = [m.span() for m in re.finditer(r"\S+", text)]
    n = len(spans)
    i0 = int(n * start)
    i1 = max(i0 + 1, int(n * end))
    return text[spans[i0][0] : spans[i1 - 1][1]]


def url_variant(url: str, i: int) -> str:
    """A different spelling of the same link: scheme, www., trailing slash, tracking parameters."""
    scheme, rest = url.split("://", 1)
    host, _, path = rest.partition("/")
    path = "/" + path
    query = ""
    if "?" in path:
        path, query = path.split("?", 1)
    ops = i % 4
    # always change at least two things
    if host.startswith("www."):
        host = host[4:]
    elif host.count(".") == 1:
        host = "www." + host
    if ops in (0, 2):
        scheme = "http" if scheme == "https" else "https"
    if ops in (1, 2, 3) and path != "/":
        path = path[:-1] if path.endswith("/") else path + "/"
    track = TRACKING[i % len(TRACKING)]
    if ops != 1:
        query = f"{query}&{track}" if query else track
    frag = "#comments" if i % 5 == 0 else ""
    return f"{scheme}://{host}{path}" + (f"?{query}" if query else "") + frag


TYPOS = [("the", "teh"), ("and", "adn"), ("with", "wiht"), ("that", "taht"), ("from", "form")]


def small_edit(text: str, rng: random.Random) -> str:
    """One or two small edits a person makes when pasting a note again."""
    out = text
    ops = rng.sample(["typo", "word", "punct", "case", "append", "swap"], 2)
    for op in ops:
        if op == "typo":
            for right, wrong in TYPOS:
                if re.search(rf"\b{right}\b", out):
                    out = re.sub(rf"\b{right}\b", wrong, out, count=1)
                    break
            else:
                words = out.split(" ")
                k = max(range(len(words)), key=lambda j: len(words[j]))
                w = words[k]
                if len(w) > 3:
                    words[k] = w[:1] + w[2] + w[1] + w[3:]
                out = " ".join(words)
        elif op == "word":
            out = (
                re.sub(r"\b(really|very|just|also)\s", "", out, count=1)
                if re.search(r"\b(really|very|just|also)\s", out)
                else re.sub(r"\b(is|are)\b", r"\1 really", out, count=1)
            )
        elif op == "punct":
            out = out.rstrip(".") if out.endswith(".") else out + "."
        elif op == "case":
            out = out[:1].swapcase() + out[1:]
        elif op == "append":
            out = out + rng.choice(
                [" (important)", " - check again", " !!", " (from Tom)", " #todo"]
            )
        elif op == "swap":
            out = out.replace(" and ", " & ", 1) if " and " in out else out.replace(", ", "; ", 1)
    if out == text:
        out = text + " (edited)"
    return out


# --------------------------------------------------------------------------------------------
# Build
# --------------------------------------------------------------------------------------------


def build() -> list[dict]:
    rng = random.Random(SEED)
    pairs: list[tuple[str, dict, dict, str]] = []

    def add(category: str, a: dict, b: dict, source: str) -> None:
        pairs.append((category, a, b, source))

    # paraphrase
    for i, (x, y) in enumerate(PARAPHRASES):
        add("paraphrase", mem(x), mem(y), f"written:paraphrase-{i + 1}")
    for pkg, rewrite in PACKAGE_PARAPHRASES:
        short, _ = apt_description(pkg)
        add(
            "paraphrase",
            mem(f"{pkg}: {short}", title=pkg),
            mem(rewrite, title=pkg),
            f"debian:apt-description:{pkg}+written-rewrite",
        )

    # same link, other comment
    for i, (url, title, c1, c2) in enumerate(SAME_LINK):
        add(
            "same_link_other_comment",
            mem(c1, title, url),
            mem(c2, title, url),
            f"written:link-{i + 1}",
        )

    # URL variants: same comment (or the bare link as content), URL spelled differently
    for i, (url, comment) in enumerate(URL_VARIANT_BASE):
        other = url_variant(url, i)
        if i % 3 == 0:
            a, b = mem(url, "", url), mem(other, "", other)
        elif i % 3 == 1:
            a, b = mem(comment, comment, url), mem(comment, comment, other)
        else:
            a, b = mem(f"{comment} {url}", "", url), mem(f"{comment} {other}", "", other)
        add("url_variant", a, b, f"written:url-{i + 1}")

    # small edits over hand-written notes, package descriptions and docstrings
    edit_sources = [
        (n, f"written:note-{i + 1}")
        for i, n in enumerate(SHORT_NOTES + [p[0] for p in PARAPHRASES[:10]])
    ]
    edit_sources += [
        (package_memory(p)["content"], f"debian:apt-description:{p}") for p in PACKAGES_LONG[:8]
    ]
    edit_sources += [(docstring(d), f"python-docstring:{d}") for d in DOCSTRINGS_LONG[:6]]
    edit_sources += [(n, f"written:long-note-{i + 1}") for i, n in enumerate(LONG_NOTES[:4])]
    for text, source in edit_sources:
        add("small_edit", mem(text), mem(small_edit(text, rng)), source)

    # translations
    for i, (lang, en, other) in enumerate(TRANSLATIONS):
        add("translation", mem(en), mem(other), f"written:translation-en-{lang}-{i + 1}")

    # halves and quarters of long texts
    long_sources = [(n, f"written:long-note-{i + 1}") for i, n in enumerate(LONG_NOTES)]
    long_sources += [
        (package_memory(p)["content"], f"debian:apt-description:{p}") for p in PACKAGES_LONG
    ]
    long_sources += [(docstring(d), f"python-docstring:{d}") for d in DOCSTRINGS_LONG]
    long_sources = [(t, s) for t, s in long_sources if len(t.split()) >= 40]
    for i, (text, source) in enumerate(long_sources):
        part = words_slice(text, 0, 0.5) if i % 2 == 0 else words_slice(text, 0.5, 1.0)
        add("half", mem(text), mem(part), source)
    for i, (text, source) in enumerate(long_sources):
        start = [0.0, 0.25, 0.5, 0.75][i % 4]
        add("quarter", mem(text), mem(words_slice(text, start, start + 0.25)), source)

    # hard negatives: same topic, different item
    for i, (x, y) in enumerate(HARD_NEGATIVES):
        add("related_hard_negative", mem(x), mem(y), f"written:hard-negative-{i + 1}")
    for f1, f2 in DOCSTRING_NEGATIVES:
        add(
            "related_hard_negative",
            mem(docstring(f1), title=f1),
            mem(docstring(f2), title=f2),
            f"python-docstring:{f1}|{f2}",
        )

    # a runtime library and its -dev sibling
    for lib, dev in DEV_SIBLINGS:
        add(
            "package_dev_sibling",
            package_memory(lib),
            package_memory(dev),
            f"debian:apt-description:{lib}|{dev}",
        )

    # unrelated: random pairs of texts from different pools
    pools = {
        "written-short": [(n, "written:note") for n in SHORT_NOTES]
        + [(p[1], "written:paraphrase") for p in PARAPHRASES],
        "written-long": [(n, "written:long-note") for n in LONG_NOTES],
        "written-hard": [(h[0], "written:hard-negative") for h in HARD_NEGATIVES],
        "debian": [
            (package_memory(p)["content"], f"debian:apt-description:{p}") for p in PACKAGES_LONG
        ],
        "python": [(docstring(d), f"python-docstring:{d}") for d in DOCSTRINGS_LONG],
        "links": [(c[2], "written:link") for c in SAME_LINK],
    }
    names = sorted(pools)
    seen: set[frozenset] = set()
    while sum(1 for p in pairs if p[0] == "unrelated") < 40:
        p1, p2 = rng.sample(names, 2)
        (t1, s1), (t2, s2) = rng.choice(pools[p1]), rng.choice(pools[p2])
        key = frozenset((t1, t2))
        if key in seen:
            continue
        seen.add(key)
        add("unrelated", mem(t1), mem(t2), f"{s1}|{s2}")

    records = []
    for n, (category, a, b, source) in enumerate(pairs, start=1):
        if rng.random() < 0.5 and category not in ("half", "quarter"):
            a, b = b, a
        records.append(
            {
                "id": f"p{n:04d}",
                "a": a,
                "b": b,
                "label": LABELS[category],
                "category": category,
                "source": source,
            }
        )
    return records


def main() -> None:
    records = build()
    with OUT.open("w", encoding="utf-8") as fh:
        for r in records:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    counts: dict[tuple[str, str], int] = {}
    for r in records:
        counts[(r["category"], r["label"])] = counts.get((r["category"], r["label"]), 0) + 1
    for (cat, label), n in sorted(counts.items()):
        print(f"{cat:25} {label:10} {n}")
    print(
        f"total {len(records)} pairs, {OUT.stat().st_size} bytes, python {sys.version.split()[0]}"
    )


if __name__ == "__main__":
    main()
