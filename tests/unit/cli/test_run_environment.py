"""`crs run` starts every process with the demo's defaults (a carrier that moves parcels, restock prompts)
under the environment it is given, which may override them."""

from services.cli.run import DEMO_DEFAULTS, local_credentials, process_environment


def test_the_demo_carrier_runs_under_crs_run_with_credentials_added():
    env = process_environment(local_credentials({"PATH": "/usr/bin"}))
    assert float(env["CRS_FULFILLMENT_DEMO_CARRIER_SECONDS"]) > 0
    assert env["PATH"] == "/usr/bin" and env["CRS_SIP_PASSWORD"]


def test_the_environment_overrides_the_demo_defaults():
    env = process_environment({"CRS_FULFILLMENT_DEMO_CARRIER_SECONDS": "0"})
    assert env["CRS_FULFILLMENT_DEMO_CARRIER_SECONDS"] == "0"
    assert env["CRS_FULFILLMENT_RESTOCK_SECONDS"] == DEMO_DEFAULTS["CRS_FULFILLMENT_RESTOCK_SECONDS"]
