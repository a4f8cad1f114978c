"""``kafka.security`` is checked at load: misspelt options and values are errors naming the option, secrets
stay masked, and a complete SASL_SSL block passes."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from hub.config import validate_config_text
from hub.kafka.security import security_problems
from schemas.errors import ConfigError


def test_a_misspelt_option_is_named_with_the_one_meant() -> None:
    assert security_problems({"security_protocl": "SSL"}) == [
        ("security_protocl", "unknown Kafka security option; did you mean 'security_protocol'?")]


@pytest.mark.parametrize(("options", "key", "words"), [
    ({"security_protocol": "SASL_SLL"}, "security_protocol", "must be one of PLAINTEXT, SSL"),
    ({"security_protocol": "SASL_SSL", "sasl_mechanism": "SCRAM-SHA-1", "sasl_plain_username": "u",
      "sasl_plain_password": "p"}, "sasl_mechanism", "must be one of"),
    ({"sasl_mechanism": "PLAIN", "sasl_plain_username": "u", "sasl_plain_password": "p"}, "sasl_mechanism",
     "needs security_protocol SASL_PLAINTEXT or SASL_SSL"),
    ({"security_protocol": "SASL_SSL", "sasl_mechanism": "SCRAM-SHA-512", "sasl_plain_username": "u"},
     "sasl_plain_password", "required with sasl_mechanism SCRAM-SHA-512"),
    ({"security_protocol": "SSL", "ssl_cafile": "/no/such/ca.pem"}, "ssl_cafile", "not found"),
    ({"security_protocol": "SSL", "ssl_check_hostname": "yes"}, "ssl_check_hostname", "true or false"),
    ({"ssl_context": "x"}, "ssl_context", "Python object"),
])
def test_each_wrong_value_is_a_problem_at_its_option(options: dict[str, object], key: str, words: str) -> None:
    problems = dict(security_problems(options))
    assert key in problems and words in problems[key], problems


def test_every_problem_is_listed_at_load_and_no_secret_is_echoed() -> None:
    text = ("kafka: {security: {security_protocl: SASL_SSL, sasl_mechanism: PLAIN, "
            "sasl_plain_password: hunter2-secret}}")
    with pytest.raises(ConfigError) as err:
        validate_config_text(text)
    message = str(err.value)
    assert "kafka.security" in message
    for part in ("security_protocl", "did you mean 'security_protocol'", "sasl_plain_username: required",
                 "sasl_mechanism: needs security_protocol"):
        assert part in message
    assert "hunter2-secret" not in message


def test_a_complete_sasl_ssl_block_loads_with_its_password_masked(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    cfg = validate_config_text(
        f"kafka: {{security: {{security_protocol: SASL_SSL, sasl_mechanism: SCRAM-SHA-512, ssl_cafile: '{ca}', "
        "sasl_plain_username: crmhub, sasl_plain_password: s3cret-pw, ssl_check_hostname: false}}")
    assert isinstance(cfg.kafka.security["sasl_plain_password"], SecretStr)
    assert "s3cret-pw" not in repr(cfg.kafka)
    assert cfg.kafka.security_options()["sasl_plain_password"] == "s3cret-pw"
