import pytest

from durable_app.settings import Authentication, ConnectionStringError, parse_connection_string


def test_emulator_string() -> None:
    parsed = parse_connection_string("Endpoint=http://localhost:8080;TaskHub=default;Authentication=None")
    assert parsed.endpoint == "http://localhost:8080"
    assert parsed.taskhub == "default"
    assert parsed.authentication is Authentication.NONE
    assert parsed.host_address == "localhost:8080"
    assert parsed.secure_channel is False


def test_azure_string_with_client_id_and_case_insensitive_keys() -> None:
    parsed = parse_connection_string(
        "endpoint=https://my-sched.westus2.durabletask.io/;taskhub=hub1;AUTHENTICATION=managedidentity;ClientID=abc;"
    )
    assert parsed.endpoint == "https://my-sched.westus2.durabletask.io"
    assert parsed.authentication is Authentication.MANAGED_IDENTITY
    assert parsed.client_id == "abc"
    assert parsed.secure_channel is True
    assert parsed.host_address == "my-sched.westus2.durabletask.io:443"
    assert "abc" not in parsed.redacted()


@pytest.mark.parametrize("value", [a.value for a in Authentication])
def test_every_authentication_value_parses(value: str) -> None:
    parsed = parse_connection_string(f"Endpoint=https://x.durabletask.io;TaskHub=h;Authentication={value}")
    assert parsed.authentication.value == value


def test_authentication_defaults_to_none() -> None:
    assert parse_connection_string("Endpoint=http://localhost:8080;TaskHub=h").authentication is Authentication.NONE


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("", "empty"),
        ("TaskHub=default;Authentication=None", "Endpoint"),
        ("Endpoint=http://localhost:8080;Authentication=None", "TaskHub"),
        ("Endpoint=http://localhost:8080;TaskHub=d;Authentication=Kerberos", "Kerberos"),
        ("Endpoint=http://localhost:8080;TaskHub=d;Region=eu", "Region"),
        ("Endpoint=http://localhost:8080;TaskHub=d;TaskHub=e", "TaskHub"),
        ("Endpoint=http://localhost:8080;TaskHub=", "TaskHub"),
        ("Endpoint=http://localhost:8080;TaskHub", "TaskHub"),
        ("Endpoint=localhost:8080;TaskHub=d", "Endpoint"),
        ("Endpoint=ftp://localhost;TaskHub=d", "Endpoint"),
        ("Endpoint=http://localhost:99999;TaskHub=d", "port"),
        ("Endpoint=http://localhost:8080/path;TaskHub=d", "path"),
        ("Endpoint=http://localhost:8080;TaskHub=d;Authentication=AzureCLI;ClientID=x", "ClientID"),
    ],
)
def test_malformed_strings_name_the_bad_part(text: str, named: str) -> None:
    with pytest.raises(ConnectionStringError, match=named):
        parse_connection_string(text)
