"""`tinygrad-edu sweep`: a grid search over the default MLP, checked before the first run."""

from __future__ import annotations

import argparse

from tinygrad_edu._cli_commands.common import (
    OPTIMIZERS,
    CLIError,
    describe_data,
    first_line,
    load_splits,
    output_dir,
)


def run_sweep(args: argparse.Namespace) -> int:
    from tinygrad_edu.sweep import check_grid, grid_search, heatmap_axes

    optimizer = OPTIMIZERS[args.optimizer]
    try:
        grid = check_grid(args.grid, default_model=True, optimizer=optimizer)
    except ValueError as e:  # a malformed term, a key the MLP does not take, a bad value
        raise CLIError(f"{first_line(e)} (in --grid {args.grid!r})") from None
    try:
        heatmap_axes(grid, args.heatmap)
    except ValueError as e:
        raise CLIError(f"--heatmap {' '.join(args.heatmap)}: {e}") from None
    out = output_dir(args.out)
    splits = load_splits(args.dataset, args.data_dir, flatten=True, command="sweep")
    try:
        result = grid_search(None, grid, splits, epochs=args.epochs,
                             batch_size=args.batch_size, optimizer=optimizer,
                             time_budget=args.time_budget,
                             progress=False if args.no_progress else None,
                             out_dir=out, heatmap=tuple(args.heatmap) if args.heatmap else None)
    except OSError as e:
        raise CLIError(f"--out {out}: writing failed ({e})") from None
    except ValueError as e:  # what the checks cannot see, e.g. the Solver refusing a run
        raise CLIError(f"{first_line(e)} (in --grid {args.grid!r})") from None
    print(result.table())
    print(f"data: {describe_data(splits)}")
    print(f"wrote {result.json_path}" + (f" and {result.heatmap_path}"
                                          if result.heatmap_path else ""))
    return 0
