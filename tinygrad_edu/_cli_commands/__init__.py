"""What the `tinygrad-edu` subcommands do, one module each (the parser lives in cli.py,
which imports this package; nothing here imports cli.py). The heavy imports wait inside the
commands, so `tinygrad-edu --help` stays quick. A new subcommand is a module with its
`run_<command>(args)` and an `_add_<command>` helper in cli.py."""

from tinygrad_edu._cli_commands.common import (
    FILE_DATASETS,
    OPTIMIZERS,
    CLIError,
    describe_data,
    load_splits,
    output_dir,
)
from tinygrad_edu._cli_commands.demo import run_demo
from tinygrad_edu._cli_commands.graph import run_graph
from tinygrad_edu._cli_commands.predict import run_evaluate, run_predict
from tinygrad_edu._cli_commands.sweep import run_sweep
from tinygrad_edu._cli_commands.train import DEFAULT_EPOCHS, run_train

__all__ = ["OPTIMIZERS", "FILE_DATASETS", "CLIError", "describe_data", "load_splits",
           "output_dir", "DEFAULT_EPOCHS", "run_demo", "run_graph", "run_sweep", "run_train",
           "run_predict", "run_evaluate"]
