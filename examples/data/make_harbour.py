"""Writes examples/data/harbour.txt: the char-LM's training text, generated from the small
grammar below with a fixed seed (original text, written for this repository; CC0, see
README.md). Run from the repository root to regenerate it byte for byte:

    python examples/data/make_harbour.py            # writes examples/data/harbour.txt
    python examples/data/make_harbour.py --check    # exits 1 if the file differs

Only `random.Random(seed)` with `choice` and `randint` is used, whose sequences Python keeps
stable across versions, so the text does not depend on numpy or on the platform.
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

PATH = Path(__file__).resolve().parent / "harbour.txt"
SEED = 1901
PARAGRAPHS = 260

PEOPLE = ["the old keeper", "the miller", "Mara", "Tomas", "the ferryman", "the baker",
          "young Ilse", "the harbour master", "the net mender", "Captain Rook", "the widow Hale",
          "the two brothers", "the schoolmistress", "the lamplighter", "Orin the smith"]
PLACES = ["the harbour", "the mill", "the lighthouse", "the market", "the long pier",
          "the chapel on the hill", "the salt flats", "the north road", "the boat sheds",
          "the inn by the bridge", "the cliff path", "the fish hall"]
THINGS = ["a lantern", "a bundle of rope", "a basket of bread", "a letter", "a brass key",
          "a net full of herring", "a small red boat", "a map of the bay", "a jar of honey",
          "a coil of copper wire", "a sack of flour", "a wooden box"]
TIMES = ["At dawn", "In the morning", "Before noon", "At midday", "In the afternoon",
         "Towards evening", "At dusk", "Late at night", "On the first day of the month",
         "When the tide turned", "After the storm", "While the bells rang"]
WEATHER = ["the wind came from the west", "a grey rain fell on the roofs",
           "the sea was calm and bright", "fog rolled in over the water",
           "the sky was clear and cold", "a warm wind blew from the south",
           "the waves broke white on the rocks", "snow lay thin on the hills"]
VERBS = ["carried", "found", "mended", "sold", "hid", "counted", "painted", "lost",
         "opened", "gave away", "weighed", "cleaned"]
MOVES = ["walked to", "ran down to", "sailed past", "climbed up to", "waited at",
         "hurried back to", "looked out from", "rowed across to"]
FEELINGS = ["happy", "tired", "worried", "quiet", "proud", "cold", "hungry", "curious"]
SAYINGS = ["The sea keeps what it takes.", "A dry net catches no fish.",
           "Bread today, boats tomorrow.", "Mind the tide and the tide minds you.",
           "Every lamp was once a spark.", "Slow oars reach the shore."]
WORDS = ["fish", "boats", "rain", "bread", "the lamp", "the bridge", "the bells", "the tide",
         "the mill wheel", "the gulls"]
ENDINGS = ["the lamps were lit", "the tide came in", "the bread was gone", "the bells rang",
           "the fog lifted", "it was dark", "the boats came home", "the fire burned low"]


def cap(phrase: str) -> str:
    """The phrase with its first letter upper-case (str.capitalize would lower the rest)."""
    return phrase[:1].upper() + phrase[1:]


def sentence(r: random.Random) -> str:
    """One sentence from one of the grammar's patterns."""
    who, who2 = r.choice(PEOPLE), r.choice(PEOPLE)
    kind = r.randint(0, 7)
    if kind == 0:
        return f"{r.choice(TIMES)}, {who} {r.choice(MOVES)} {r.choice(PLACES)}."
    if kind == 1:
        return f"{r.choice(TIMES)} {r.choice(WEATHER)}, and {who} felt {r.choice(FEELINGS)}."
    if kind == 2:
        return f"{cap(who)} {r.choice(VERBS)} {r.choice(THINGS)} near {r.choice(PLACES)}."
    if kind == 3:
        return (f"\"Have you seen {r.choice(THINGS)}?\" asked {who}. \"No,\" said {who2}, "
                f"\"but I saw {r.choice(THINGS)} at {r.choice(PLACES)}.\"")
    if kind == 4:
        return f"{cap(who)} always said: \"{r.choice(SAYINGS)}\""
    if kind == 5:
        n = r.randint(2, 12)
        return f"There were {n} boats in the harbour and {n + r.randint(1, 9)} gulls on the pier."
    if kind == 6:
        return (f"{cap(who)} and {who2} talked about {r.choice(WORDS)} until "
                f"{r.choice(ENDINGS)}.")
    return f"Nobody at {r.choice(PLACES)} knew why {who} {r.choice(VERBS)} {r.choice(THINGS)}."


def text(seed: int = SEED, paragraphs: int = PARAGRAPHS) -> str:
    """The whole text: `paragraphs` paragraphs of 2 to 6 sentences, a blank line between."""
    r = random.Random(seed)
    out = []
    for _ in range(paragraphs):
        out.append(" ".join(sentence(r) for _ in range(r.randint(2, 6))))
    return "\n\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--check", action="store_true", help="compare with the file, do not write")
    args = p.parse_args(argv)
    body = text()
    if args.check:
        same = PATH.exists() and PATH.read_text(encoding="utf-8") == body
        print(f"{PATH.name}: {'up to date' if same else 'DIFFERS'}")
        return 0 if same else 1
    PATH.write_text(body, encoding="utf-8")
    print(f"wrote {PATH} ({len(body.encode())} bytes, {len(set(body))} distinct characters)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
