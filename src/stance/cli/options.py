"""What several commands share: argument types, --debug on every subcommand, the prediction paths."""
from __future__ import annotations

import argparse


# stance.models.precision.MODES plus "auto", spelled here so that parsing the command line imports nothing.
INFERENCE_PATHS = ["auto", "fp32", "bf16", "int8", "onnx", "onnx-int8"]


def whole_number(low: int):
    """argparse type: an int >= low, refused by argparse (usage and one line) like a config value would be."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be at least {low}, got {value}")
        return value
    return parse


def probability(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number between 0 and 1, got {text!r}") from None
    if not 0.0 <= value <= 1.0:  # NaN fails this too
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {text}")
    return value


def debug_option() -> argparse.ArgumentParser:
    """--debug, accepted before or after the command (`stance --debug predict ...`, `stance predict --debug`)."""
    common = argparse.ArgumentParser(add_help=False)
    # SUPPRESS: a subcommand's default must not overwrite a --debug given before the subcommand.
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                        help="show the full traceback of an error instead of one line")
    common.add_argument("--verbose", action="store_true", default=argparse.SUPPRESS,
                        help="also show third-party INFO lines, warnings and progress bars (MLflow, transformers, "
                             "onnxruntime); hidden by default, stance's own lines stay")
    return common


class Subcommands(argparse._SubParsersAction):
    """Every subcommand (and sub-subcommand) accepts --debug."""

    def add_parser(self, name, **kwargs):
        kwargs.setdefault("parents", []).append(debug_option())
        parser = super().add_parser(name, **kwargs)
        parser.register("action", "parsers", Subcommands)
        return parser
