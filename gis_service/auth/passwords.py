"""The password policy, in one place: every path that sets a password (the command line, the
accounts API, a user changing their own) asks `password_problems` or `require_good_password`.

A password must be at least MIN_LENGTH characters, must not be the user name or contain it
(case-insensitively; for names of three characters or more, so that a two-letter name such as
"li" does not forbid every word with those letters), and must not be one of the 30,000 most
common passwords. That list is zxcvbn's (Dropbox's password-strength estimator, packaged on
PyPI as `zxcvbn`), built from leaked-password corpora and kept lower-case; a password is
compared with it lower-cased, so "Password123" counts as the common "password123".
"""

from __future__ import annotations

from functools import cache

from gis_service.errors import InvalidInputError

MIN_LENGTH = 10
MAX_LENGTH = 256  # Argon2 takes any length; this keeps a sign-in from hashing a megabyte
NAME_IN_PASSWORD_FROM = 3  # names this long or longer may not appear inside the password


@cache
def _common() -> frozenset[str]:
    # loaded on first use: the module is 800 kB of Python source
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


def is_common(password: str) -> bool:
    """Whether the password is on the common-passwords list (compared lower-cased)."""
    return password.casefold() in _common()


def password_problems(username: str, password: str) -> list[str]:
    """What is wrong with `password` for the account `username` (empty: it is acceptable)."""
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(f"密码太短：至少 {MIN_LENGTH} 个字符（现 {len(password)} 个）")
    if len(password) > MAX_LENGTH:
        problems.append(f"密码太长：至多 {MAX_LENGTH} 个字符")
    name, folded = username.strip().casefold(), password.casefold()
    if name and (folded == name or (len(name) >= NAME_IN_PASSWORD_FROM and name in folded)):
        problems.append("密码不能是用户名，也不能包含用户名")
    if is_common(password):
        problems.append("这是常见密码（在常见密码表中），容易被猜中")
    return problems


def require_good_password(username: str, password: str) -> None:
    """InvalidInputError (422) listing every problem when the password breaks the policy."""
    problems = password_problems(username, password)
    if problems:
        raise InvalidInputError("密码不符合要求：" + "；".join(problems), problems=problems)
