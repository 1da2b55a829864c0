"""Tests of the registry of named entries."""

import dataclasses

import pytest

from resnet_tf.console.registry import Registry


def test_entries_are_found_by_their_function_name_in_the_order_registered():
    shapes: Registry[tuple[int, int]] = Registry("shape")

    @shapes.register
    def square() -> tuple[int, int]:
        return (1, 1)

    @shapes.register
    def wide() -> tuple[int, int]:
        return (1, 2)

    assert shapes.names() == ("square", "wide")
    assert shapes.get("wide") == (1, 2)
    assert square() == (1, 1)  # the decorator returns the function itself


def test_an_unknown_name_and_a_second_registration_are_refused_by_name():
    shapes: Registry[int] = Registry("shape")

    @shapes.register
    def square() -> int:
        return 1

    with pytest.raises(ValueError, match="unknown shape 'round'; registered: square"):
        shapes.get("round")
    with pytest.raises(ValueError, match="shape 'square' is registered twice"):
        shapes.register(square)


def test_describe_lists_every_entry_with_its_own_description_in_order():
    @dataclasses.dataclass
    class Shape:
        description: str

    shapes: Registry[Shape] = Registry("shape")

    @shapes.register
    def square() -> Shape:
        return Shape("four equal sides")

    @shapes.register
    def wide() -> Shape:
        return Shape("twice as wide as tall")

    assert shapes.describe() == "square: four equal sides; wide: twice as wide as tall"
