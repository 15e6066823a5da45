"""A to-do list as an eventscope domain: the smallest complete plug-in.

Commands are orders, events are facts, the aggregate is a fold, handlers check the
rules, and a projection gives the app a table. `TODO_DOMAIN` is what eventscope loads.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Annotated, ClassVar

from pydantic import Field

from domain.description import DomainDescription
from domain.envelope import RecordedEvent
from domain.errors import RuleRefused
from domain.fields import FreeText
from domain.history_check import same_named_fields
from domain.messages import Command, Event
from domain.model import AggregateType, Context, DomainModel, Emit, EventCatalog
from domain.projection import Column, ProjectionState


class AddTodo(Command):
    type_name: ClassVar[str] = "add_todo"
    title: ClassVar[str] = "Add a to-do"
    todo_id: str = Field(pattern=r"^[a-z0-9-]{1,30}$", description="short id, e.g. buy-milk")
    text: Annotated[str, FreeText(200)] = Field(description="what to do")


class CompleteTodo(Command):
    type_name: ClassVar[str] = "complete_todo"
    title: ClassVar[str] = "Complete a to-do"
    todo_id: str = Field(description="the id given when it was added")


class TodoAdded(Event):
    type_name: ClassVar[str] = "TodoAdded"
    todo_id: str
    text: str


class TodoCompleted(Event):
    type_name: ClassVar[str] = "TodoCompleted"
    todo_id: str


@dataclass(frozen=True)
class Todo:
    text: str = ""
    status: str = "none"  # none -> open -> done


def evolve(state: Todo, event: Event) -> Todo:
    if isinstance(event, TodoAdded):
        return Todo(text=event.text, status="open")
    if isinstance(event, TodoCompleted):
        return replace(state, status="done")
    return state


TODO = AggregateType(stream_type="todo", initial=Todo, evolve=evolve)


def add_todo(command: AddTodo, ctx: Context) -> list[Emit]:
    if ctx.load(TODO, command.todo_id).status != "none":
        raise RuleRefused(f"to-do {command.todo_id} already exists; pick another id")
    return [Emit(TODO, command.todo_id, TodoAdded(todo_id=command.todo_id, text=command.text))]


def complete_todo(command: CompleteTodo, ctx: Context) -> list[Emit]:
    status = ctx.load(TODO, command.todo_id).status
    if status == "none":
        raise RuleRefused(f"there is no to-do {command.todo_id}; add it first")
    if status == "done":
        raise RuleRefused(f"to-do {command.todo_id} is already done")
    return [Emit(TODO, command.todo_id, TodoCompleted(todo_id=command.todo_id))]


class Todos:
    """The list as the app shows it: one row per to-do."""

    name = "todos"
    title = "To-dos"
    key_title = "to-do"
    columns = (
        Column("todo_id", "Id"),
        Column("text", "To do"),
        Column("status", "Status", "status"),
        Column("updated", "Updated", "time"),
    )

    def initial(self) -> ProjectionState:
        return ProjectionState()

    def apply(self, state: ProjectionState, event: RecordedEvent) -> Iterable[str]:
        key = event.data["todo_id"]
        if event.type == "TodoAdded":
            state.rows[key] = {"todo_id": key, "text": event.data["text"], "status": "open"}
        elif event.type == "TodoCompleted":
            state.rows[key]["status"] = "done"
        else:
            return ()
        state.rows[key]["updated"] = event.recorded_at
        return (key,)

    def lineage_streams(self, row_key: str) -> list[str]:
        return [TODO.stream_id(row_key)]


TODO_DOMAIN = DomainDescription(
    name="todo",
    title="To-do list",
    model=DomainModel(
        name="todo",
        commands=[AddTodo, CompleteTodo],
        handlers={AddTodo: add_todo, CompleteTodo: complete_todo},
        catalog=EventCatalog([TodoAdded, TodoCompleted]),
        aggregates=[TODO],
    ),
    projections=[Todos()],
    # import replays each command through add_todo/complete_todo, rebuilt from its events
    command_fields=same_named_fields,
)
