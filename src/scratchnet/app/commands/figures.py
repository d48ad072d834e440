"""``scratchnet figures``: the tutorial's explanatory figures."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..arguments import make_folder


def add_parser(commands) -> None:
    figures = commands.add_parser(
        "figures",
        help="draw the tutorial's explanatory figures",
        description="Write sigmoid.png (the sigmoid and its derivative) and "
        "cross_entropy.png (binary cross-entropy for y=1 and y=0).",
    )
    figures.add_argument(
        "--out", type=Path, default=Path("figures"), help="output folder (default: ./figures)"
    )
    figures.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from ..plots import plot_cross_entropy, plot_sigmoid

    make_folder(args.out, "--out")
    plot_sigmoid(args.out / "sigmoid.png")
    plot_cross_entropy(args.out / "cross_entropy.png")
    print(f"wrote {args.out / 'sigmoid.png'} and {args.out / 'cross_entropy.png'}")
    return 0
