"""Errors about the user's input. The commands print them as one message, without a traceback."""

import contextlib
import sys
from typing import Iterator, List

from absl import flags, logging


class JaxganError(Exception):
    """Base of the errors a user can fix (bad config, bad data, wrong workdir)."""


class ConfigError(JaxganError, ValueError):
    """A config value that is missing, of the wrong type or out of range."""


class DataSourceError(JaxganError, ValueError):
    """A data source that cannot be read; the message names the source and what was tried."""


class IncompatibleCheckpointError(JaxganError, ValueError):
    """The workdir holds checkpoints of another method or architecture."""


class WorkdirError(JaxganError, OSError):
    """The workdir cannot be created or written to."""


class NonFiniteError(JaxganError, FloatingPointError):
    """A loss or gradient became NaN or infinite; the last good checkpoint is kept."""


class Interrupted(Exception):
    """Training was stopped by a signal after saving a checkpoint (not an error: resume by re-running).

    A command exits with status 128 + ``signum``, as a process killed by that signal would,
    so that schedulers that requeue preempted jobs recognise it."""

    def __init__(self, message: str, signum: int):
        super().__init__(message)
        self.signum = signum


@contextlib.contextmanager
def reported() -> Iterator[None]:
    """In a command: print a user error as ``error: MESSAGE`` and exit with status 2.

    Also quiets Orbax's and absl's INFO logging unless ``--verbosity`` was given."""
    if not flags.FLAGS["verbosity"].present:
        logging.set_verbosity(logging.WARNING)
    try:
        yield
    except (JaxganError, FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(2)
    except Interrupted as e:
        print(e, file=sys.stderr)
        sys.exit(128 + e.signum)


def parse_flags(argv: List[str]) -> List[str]:
    """absl flag parsing that reports a misspelled ``--config.KEY`` override as one line
    (ml_collections raises it from deep inside the parser)."""
    try:
        return flags.FLAGS(argv)
    except flags.Error as e:  # A value of the wrong type, an unknown flag, or a config file's own error.
        # ml_collections re-raises a config file's error with its traceback in the message; the
        # innermost jaxgan error in the chain is the one the config file raised.
        user_error, link = None, e
        while link is not None:
            user_error = link if isinstance(link, JaxganError) else user_error
            link = link.__cause__ or link.__context__
        print(f"error: {user_error or e}\nPass --help for the flags.", file=sys.stderr)
        sys.exit(2)
    except (AttributeError, KeyError) as e:
        while not isinstance(e, KeyError) and e.__context__ is not None:  # The KeyError holds the
            e = e.__context__  # plain message; the AttributeError around it has its repr.
        reason = str(e.args[0]) if e.args else str(e)
        overrides = [a for a in argv[1:] if a.startswith("--config.")]
        print(f"error: the config has no key {reason.splitlines()[0]} (overrides: {' '.join(overrides)})"
              + "".join(f"\n{line}" for line in reason.splitlines()[1:]), file=sys.stderr)
        sys.exit(2)
