"""The claims world (tests/insurance) for the measures' tests."""

from tests.insurance.conftest import (  # noqa: F401 - fixtures
    claims_world,
    engine,
    make_app,
    mongo_base,
    store_url,
)
