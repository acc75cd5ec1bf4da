"""Secrets never leave: at most the first 4 characters and ****."""

from __future__ import annotations

import io
import logging

from anytable.config import Settings
from anytable.masking import SECRETS, ScrubbingFormatter, mask, scrub
from anytable.server.results import error, ok

SECRET = "s3cr3t-Value-Of-App-0123456789"


def test_mask_shows_at_most_four_characters() -> None:
    assert mask(SECRET) == "s3cr****"
    assert mask("") == mask(None) == "not set"


def test_settings_register_their_secrets() -> None:
    Settings(feishu_app_id="cli_x", feishu_app_secret=SECRET)
    assert scrub(f"failed with {SECRET}!") == "failed with s3cr****!"
    result = ok({"k": [f"a{SECRET}b"], SECRET: 1})
    assert result.structured_content == {"k": ["as3cr****b"], "s3cr****": 1}
    assert SECRET not in result.content[0].text
    assert SECRET not in error(f"bad {SECRET}").content[0].text


def test_secret_looking_parameters_are_masked_even_when_unknown() -> None:
    text = "GET https://oapi.dingtalk.com/gettoken?appkey=k1&appsecret=UnknownSecret123 failed"
    assert "UnknownSecret123" not in scrub(text)
    assert "appsecret=Unkn****" in scrub(text)
    assert "Bearer abcd****" in scrub('{"Authorization": "Bearer abcdefghijklmnop"}')


def test_log_lines_and_tracebacks_are_scrubbed() -> None:
    SECRETS.add(SECRET)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(ScrubbingFormatter("%(message)s"))
    logger = logging.getLogger("test.masking")
    logger.addHandler(handler)
    try:
        try:
            raise RuntimeError(f"token {SECRET} rejected")
        except RuntimeError:
            logger.exception("call with %s failed", SECRET)
    finally:
        logger.removeHandler(handler)
    out = stream.getvalue()
    assert SECRET not in out
    assert out.count("s3cr****") >= 2  # in the message and in the traceback


# ------------------------------------------------- the fast paths mask exactly what the patterns do
def _reference_scrub(text: str) -> str:
    """scrub's secret-looking parameters and URL passwords by the two patterns alone, run over
    every text (what scrub did before it skipped texts that cannot match)."""
    from anytable.masking import _SECRET_PARAM, _URL_PASSWORD

    text = _SECRET_PARAM.sub(lambda m: m.group(1) + m.group(2) + mask(m.group(3)), text)
    return _URL_PASSWORD.sub(lambda m: m.group(1) + mask(m.group(2)) + m.group(3), text)


def test_fast_paths_mask_exactly_what_the_patterns_mask() -> None:
    import random

    pieces = [
        "http", "Postgresql", "1x", "-a", "+b.", "://", ":", "/", "@", " ", "\n", "u", "pass", "w0rd",
        "=", '"', "Bearer ", "api_key", "APP_SECRET", "AUTHORİZATİON", "acceſs_token", "apıkey",
        "x-acs-dingtalk-access-token", "Token", "K", "é", "%2F", "\\",
    ]  # fmt: skip
    rng = random.Random(20261204)
    SECRETS.clear()
    for _ in range(4000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 24)))
        assert scrub(text) == _reference_scrub(text), text
    assert scrub("dsn postgresql://me:hunter22@db/x, 9ftp://a:b@c") == (
        "dsn postgresql://me:hunt****@db/x, 9ftp://a:b****@c"
    )
    assert scrub("appſecret=abcdefgh and authorİzation: Bearer 0123456789") == (
        "appſecret=abcd**** and authorİzation: Bearer 0123****"
    )


def test_every_secret_parameter_name_holds_a_hint() -> None:
    """scrub runs the parameter pattern only over texts holding a hint: a parameter name without
    one would never be masked."""
    from anytable.masking import PARAM_HINTS, SECRET_PARAMS

    assert all(any(hint in name for hint in PARAM_HINTS) for name in SECRET_PARAMS)
