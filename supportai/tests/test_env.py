import pytest
from django.core.exceptions import ImproperlyConfigured

from supportai.email_config import email_settings
from supportai.env import env_bool, env_choice, env_fernet_key, env_int, env_list, env_origins, env_str, env_url

PG = frozenset({"postgres", "postgresql"})


def test_env_bool_accepts_usual_spellings() -> None:
    assert env_bool("X", environ={"X": "Yes"}) is True
    assert env_bool("X", environ={"X": "off"}) is False
    assert env_bool("X", True, environ={}) is True


@pytest.mark.parametrize("value", ["maybe", "2", "tru"])
def test_env_bool_rejects_other_values(value: str) -> None:
    with pytest.raises(ImproperlyConfigured, match="X must be one of"):
        env_bool("X", environ={"X": value})


def test_env_choice_takes_one_of_its_choices() -> None:
    assert env_choice("P", "local", {"local", "openai"}, environ={"P": " openai "}) == "openai"
    assert env_choice("P", "local", {"local", "openai"}, environ={}) == "local"
    assert env_choice("R", "", {"", "cohere"}, environ={"R": ""}) == ""
    with pytest.raises(ImproperlyConfigured, match=r"P must be one of local, openai; got 'openia'"):
        env_choice("P", "local", {"local", "openai"}, environ={"P": "openia"})
    with pytest.raises(ImproperlyConfigured, match=r'R must be one of "" \(off\), cohere; got \'cohere3\''):
        env_choice("R", "", {"", "cohere"}, environ={"R": "cohere3"})


def test_env_int_checks_type_and_bounds() -> None:
    assert env_int("N", 5, environ={"N": " 7 "}) == 7
    assert env_int("N", 5, environ={}) == 5
    with pytest.raises(ImproperlyConfigured, match="N must be an integer"):
        env_int("N", 5, environ={"N": "seven"})
    with pytest.raises(ImproperlyConfigured, match=">= 0"):
        env_int("N", 5, minimum=0, environ={"N": "-1"})
    with pytest.raises(ImproperlyConfigured, match="<= 10"):
        env_int("N", 5, maximum=10, environ={"N": "11"})


def test_env_list_and_str_drop_blanks() -> None:
    assert env_list("L", environ={"L": "a, b,,c "}) == ["a", "b", "c"]
    assert env_list("L", ["d"], environ={"L": ""}) == ["d"]
    assert env_str("S", "fallback", environ={"S": "  "}) == "fallback"


def test_env_url_checks_scheme() -> None:
    assert env_url("U", schemes=PG, environ={"U": "postgres://u@h/db"}) == "postgres://u@h/db"
    assert env_url("U", schemes=PG, environ={}) == ""
    with pytest.raises(ImproperlyConfigured, match="U must use one of the schemes"):
        env_url("U", schemes=PG, environ={"U": "mysql://u@h/db"})
    with pytest.raises(ImproperlyConfigured, match="U must use one of the schemes"):
        env_url("U", schemes=PG, environ={"U": "localhost:5432"})


def test_env_origins_require_scheme_and_host_only() -> None:
    assert env_origins("O", environ={"O": "https://a.example,http://b.example:8000"}) == [
        "https://a.example",
        "http://b.example:8000",
    ]
    for bad in ["a.example", "https://a.example/path", "ftp://a.example"]:
        with pytest.raises(ImproperlyConfigured, match="O entries must look like"):
            env_origins("O", environ={"O": bad})


def test_env_fernet_key_validates_length() -> None:
    good = "x" * 43 + "="
    assert env_fernet_key("K", environ={"K": good}) == good
    with pytest.raises(ImproperlyConfigured, match="32 bytes"):
        env_fernet_key("K", environ={"K": "c2hvcnQ="})
    with pytest.raises(ImproperlyConfigured, match="base64"):
        env_fernet_key("K", environ={"K": "not base64 at all!"})


def test_email_settings_from_url(tmp_path) -> None:
    smtp = email_settings("smtp+tls://me%40x.org:p%2Fw@mail.example.com", data_dir=tmp_path)
    assert (smtp.host, smtp.port, smtp.user, smtp.password, smtp.use_tls) == (
        "mail.example.com",
        587,
        "me@x.org",
        "p/w",
        True,
    )
    assert email_settings("file://", data_dir=tmp_path).file_path == str(tmp_path / "mail")
    assert email_settings("console://", data_dir=tmp_path).backend.endswith("console.EmailBackend")
    with pytest.raises(ImproperlyConfigured, match="needs a host"):
        email_settings("smtp://", data_dir=tmp_path)
    with pytest.raises(ImproperlyConfigured, match="not supported"):
        email_settings("sendgrid://key", data_dir=tmp_path)
