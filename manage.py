#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "supportai.settings")
    from django.core.management import execute_from_command_line

    from supportai.management.console import (
        ending_interrupted_commands,
        ending_quietly_when_the_reader_leaves,
        print_names_as_given,
        terminating_signals_exit,
    )
    from supportai.startup import refusing_bad_configuration

    print_names_as_given()
    with (
        terminating_signals_exit(),
        refusing_bad_configuration(),
        ending_interrupted_commands(),
        ending_quietly_when_the_reader_leaves(),
    ):
        execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
