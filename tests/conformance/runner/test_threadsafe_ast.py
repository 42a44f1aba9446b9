"""`ast.parse` serialised while items run in threads (CPython gh-106905 before 3.13)."""

from __future__ import annotations

import ast
import sys
import threading

import pytest

from conformance.runner import threadsafe_ast

DEEP = "(" * 80 + "1" + ")" * 80 + " + " + " + ".join(f"[{n}, {{'k': ({n},)}}]" for n in range(40))


@pytest.mark.skipif(sys.version_info >= (3, 13), reason="fixed in CPython 3.13: nothing is installed")
def test_install_wraps_parse_once() -> None:
    threadsafe_ast.install()
    threadsafe_ast.install()
    assert ast.parse is threadsafe_ast._locked_parse
    assert ast.dump(ast.parse("x = 1")) == ast.dump(threadsafe_ast._original_parse("x = 1"))


def test_threads_parsing_at_once_all_succeed() -> None:
    threadsafe_ast.install()
    errors: list[BaseException] = []
    expected = ast.dump(ast.parse(DEEP))

    def parse_many() -> None:
        try:
            for _ in range(10):
                assert ast.dump(ast.parse(DEEP)) == expected
        except BaseException as exc:  # collected: an exception in a thread is otherwise lost
            errors.append(exc)

    threads = [threading.Thread(target=parse_many) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
