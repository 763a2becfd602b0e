"""Service tests: the helpers' asserts are rewritten too (registered before any test module imports them)."""

import pytest

pytest.register_assert_rewrite("servicekit", "gcs_emulator")
