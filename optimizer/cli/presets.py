"""`eldercare presets`: list the policy presets, or show one with its quotes and what it leaves out.

Registered on the `eldercare` app by `optimizer.cli.main`; the preset module is imported inside the
command so that ``eldercare --help`` stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from optimizer.cli.common import EXIT_MET, guarded, out

if TYPE_CHECKING:
    from rich.console import Console

    from optimizer.scenario.presets import Preset


def presets_command(
    name: Annotated[str | None, typer.Argument(help="A preset to show in full; omitted: list every preset.")] = None,
) -> None:
    """List the policy presets (one per planning document) with their targets, or show one in full.

    A scenario uses a preset as an entry of its target list: {"preset": "NAME"} (README, "Policy presets").
    """
    from optimizer.scenario.presets import load_preset, preset_names

    def work() -> int:
        if name is None:
            for preset_name in preset_names():
                _summary(load_preset(preset_name), out)
            out.print('Use one in a scenario\'s targets: {"preset": "<name>"}; details: eldercare presets <name>')
        else:
            _details(load_preset(name), out)
        return EXIT_MET

    guarded(work)


def _header(preset: Preset, console: Console) -> None:
    console.print(f"[bold]{preset.id}[/] · {escape(preset.title)} ({escape(preset.document)}, {preset.issued}) · "
                  f"{escape(preset.region)} · {preset.horizon} · {preset.file}", highlight=False)


def _target_lines(preset: Preset, console: Console, *, quotes: bool) -> None:
    from optimizer.scenario.presets import describe_target

    for t in preset.targets:
        scope = "" if t.applies_to == "any" else f", {t.applies_to} level"
        console.print(f"  [bold]{t.id}[/]: {escape(describe_target(t.target))} ({t.year or 'no year'}{scope})",
                      highlight=False)
        console.print(f"      {escape(t.label)} — {escape(t.clause)}", highlight=False)
        if quotes:
            for quote in t.quote:
                console.print(f"      「{escape(quote)}」", highlight=False)
            console.print(f"      reading: {escape(t.reading)}", highlight=False)


def _summary(preset: Preset, console: Console) -> None:
    _header(preset, console)
    _target_lines(preset, console, quotes=False)
    console.print(f"  out of scope: {len(preset.out_of_scope)} quoted clauses (services, staff, money...)\n",
                  highlight=False)


def _details(preset: Preset, console: Console) -> None:
    _header(preset, console)
    described = [f"{role} {escape(preset.labels.get(role, ''))} = {escape(meaning)}"
             for role, meaning in preset.facilities.items()]
    console.print("[bold]facilities[/] (map onto your types with \"facilities\"; role, label = the plan's words): "
                  + "; ".join(described), highlight=False)
    for field, roles in (("groups", preset.groups), ("weights", preset.weights)):
        if roles:
            console.print(f"[bold]{field}[/]: " + "; ".join(f"{r} = {escape(m)}" for r, m in roles.items()),
                          highlight=False)
    console.print("[bold]targets[/]:")
    _target_lines(preset, console, quotes=True)
    console.print("[bold]out of scope[/] (no site choice expresses them):")
    for item in preset.out_of_scope:
        console.print(f"  {escape(item.clause)}: 「{escape(item.quote)}」 — {escape(item.why)}", highlight=False)
    if preset.guidance:
        console.print("[bold]guidance[/] (how to model, no figure):")
        for hint in preset.guidance:
            console.print(f"  {escape(hint.clause)}: 「{escape(hint.quote)}」 — {escape(hint.note)}", highlight=False)
    for note in preset.notes:
        console.print(f"[bold]note[/]: {escape(note)}", highlight=False)
