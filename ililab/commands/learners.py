"""``ililab learners``: every registered learner with its parameters."""

from __future__ import annotations

import json

import click


@click.command("learners")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def learners_command(as_json: bool) -> None:
    """List the learners (built-in and plugins) with their parameters and defaults."""
    from ililab.learners import DEFAULT_LEARNER, available, get

    rows = []
    for name in available():
        try:
            cls = get(name)
        except Exception as error:  # a learner whose module fails to import
            rows.append({"name": name, "description": f"unavailable: {error}", "params": []})
            continue
        params = [
            {"name": key, "type": typ, "default": default, "description": desc}
            for key, typ, default, desc in cls.param_table()
        ]
        rows.append(
            {
                "name": name,
                "description": cls.description,
                "output": cls.tags.output,
                "knowledge": cls.tags.supports_knowledge,
                "default": name == DEFAULT_LEARNER,
                "params": params,
            }
        )
    if as_json:
        click.echo(json.dumps(rows, indent=2, default=str))
        return
    for row in rows:
        mark = " (default)" if row.get("default") else ""
        click.echo(f"{row['name']}{mark}: {row['description']}")
        for param in row["params"]:
            desc = f"  {param['description']}" if param["description"] else ""
            click.echo(f"    {param['name']} ({param['type']}, default {param['default']!r}){desc}")
