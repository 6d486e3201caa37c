"""The wallboard across several nodes (`nodes:`): since when a node has been down (kept
by the feed across rebuilds, forgotten when it answers again), carried by the snapshot
for the banner; and the live list's node column only when there are several nodes."""

from __future__ import annotations

from pathlib import Path

from balagh.console import board
from balagh.console.feed import Feed
from balagh.console.pages import LIVE_COLUMNS, live_columns, live_page
from balagh.texts import LANGUAGES, console_labels

from .test_console import NOW, QUESTIONS
from .test_health import closed_port
from .test_nodes_view import nodes_settings

UP = board.NodeReading("node1", True, [], set())
DOWN = board.NodeReading("node2", False)


def test_a_node_is_down_since_it_was_first_found_down_until_it_answers() -> None:
    first = board.nodes_down_since({}, [UP, DOWN], NOW)
    assert first == {"node2": NOW}
    # still down a minute later: the same since
    assert board.nodes_down_since(first, [UP, DOWN], NOW + 60) == {"node2": NOW}
    # read again: forgotten; down once more: a new since
    back = board.nodes_down_since(first, [UP, board.NodeReading("node2", True, [], set())],
                                  NOW + 90)
    assert back == {}
    assert board.nodes_down_since(back, [UP, DOWN], NOW + 120) == {"node2": NOW + 120}


def test_the_snapshot_says_since_when_each_down_node_is_down() -> None:
    built = board.build(nodes=[UP, DOWN], reports=[], questions=QUESTIONS,
                        today=board.Today(), now=NOW + 60, down_since={"node2": NOW})
    assert built["down_since"] == {"node2": NOW}
    assert built["nodes"] == [{"name": "node1", "pbx": "up"}, {"name": "node2", "pbx": "down"}]
    every_node_up = board.build(nodes=[UP], reports=[], questions=QUESTIONS,
                                today=board.Today(), now=NOW, down_since={"node2": NOW})
    assert every_node_up["down_since"] == {}


async def test_the_feed_keeps_since_when_a_dead_node_is_down(tmp_path: Path) -> None:
    settings = nodes_settings(tmp_path, [closed_port(), closed_port()],
                              ["http://127.0.0.1:9/"] * 2)
    feed = Feed(settings, QUESTIONS, ["general"])
    try:
        await feed.rebuild()
        first = feed.snapshot["down_since"]
        assert set(first) == {"node1", "node2"}
        await feed.rebuild()
        assert feed.snapshot["down_since"] == first  # the first time it was found down
    finally:
        await feed.stop()


def test_the_live_list_has_a_node_column_only_with_several_nodes() -> None:
    assert live_columns(False) == LIVE_COLUMNS
    with_nodes = live_columns(True)
    assert with_nodes[with_nodes.index("queue") + 1] == "node"
    assert [c for c in with_nodes if c != "node"] == list(LIVE_COLUMNS)
    assert 'data-nodes="1"' in live_page("en", "amina", "t", several_nodes=True)
    assert 'data-nodes' not in live_page("en", "amina", "t")


def test_the_node_sentences_have_their_placeholders_in_both_languages() -> None:
    for lang in LANGUAGES:
        labels = console_labels(lang)
        assert all(f"{{{key}}}" in labels["node_down"] for key in ("node", "time", "age"))
        assert "{nodes}" in labels["node_figures_unknown"]
        assert "{nodes}" in labels["node_agents_unknown"]

