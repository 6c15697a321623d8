"""What the benchmark scripts share: the Odoo configuration and database
bench/run.sh gives them (-c, -d)."""
import argparse

import odoo


def bench_parser():
    parser = argparse.ArgumentParser()
    parser.add_argument("-c", "--config", required=True)
    parser.add_argument("-d", "--database", required=True)
    return parser


def open_registry(args):
    odoo.tools.config.parse_config(["-c", args.config, "-d", args.database, "--log-level=warn"])
    return odoo.modules.registry.Registry(args.database)
