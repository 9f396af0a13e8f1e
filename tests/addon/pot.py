"""The translation template (i18n/credit_guard.pot) of the credit_guard addons, as Odoo would export it.

Terms, with Odoo's references:

* ``_("...")`` / ``self.env._("...")`` in the Python code → ``code:addons/credit_guard/<file>:0``;
* field labels, helps and selection values → ``model:ir.model.fields,field_description|help:...``,
  ``model:ir.model.fields.selection,name:...``;
* names of the group, its category (17) or privilege (19) → ``model:res.groups,name:...``, ...;
* window actions and menus → ``model:ir.actions.act_window,name:...`` (their help, one term per
  paragraph: ``model_terms:ir.actions.act_window,help:...``), ``model:ir.ui.menu,name:...``;
* texts and translatable attributes of the views → ``model_terms:ir.ui.view,arch_db:...``.

``python -m tests.addon.pot`` rewrites both addons' POT files; the tests compare them with ``render()``.
"""

from __future__ import annotations

import ast
import re
import xml.etree.ElementTree as ET
from pathlib import Path

MODULE = "credit_guard"  # the technical name of both addons once installed
TRANSLATED_ATTRS = ("string", "help", "sum", "avg", "confirm", "placeholder", "alt", "title", "aria-label")
TRANSLATED_RECORD_FIELDS = {
    "res.groups": ("name", "comment"),
    "ir.module.category": ("name", "description"),
    "res.groups.privilege": ("name", "description"),
    "ir.actions.act_window": ("name",),
}
TRANSLATED_HTML_FIELDS = {"ir.actions.act_window": ("help",)}  # one term per block, as html_translate
WIDTH = 78


def module_name(addon_dir: Path) -> str:
    """The technical name the addon installs under: ``credit_guard`` (both ports), ``credit_guard_stock``
    (both ports of the bridge with sale_stock)."""
    return "credit_guard_stock" if addon_dir.name.startswith("credit_guard_stock") else MODULE


def _model_key(model: str) -> str:
    return model.replace(".", "_")


def code_terms(addon_dir: Path):
    """``(msgid, reference)`` of every translated string in the Python code."""
    for path in sorted(addon_dir.rglob("*.py")):
        rel = path.relative_to(addon_dir)
        if rel.parts[0] == "tests":
            continue
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and is_translation_call(node):
                if not node.args or not (isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
                    raise ValueError(f"{path}:{node.lineno}: _() needs a literal string to be exported")
                yield node.args[0].value, f"code:addons/{module_name(addon_dir)}/{rel.as_posix()}:0"


def is_translation_call(node: ast.Call) -> bool:
    func = node.func
    if isinstance(func, ast.Name):
        return func.id == "_"
    # self.env._(...)
    return (isinstance(func, ast.Attribute) and func.attr == "_" and isinstance(func.value, ast.Attribute)
            and func.value.attr == "env")


def field_terms(addon_dir: Path):
    from .viewcheck import addon_fields

    for model, fields in addon_fields(addon_dir).items():
        for name, info in sorted(fields.items()):
            xmlid = f"{module_name(addon_dir)}.field_{_model_key(model)}__{name}"
            # res.users inherits res.partner (_inherits): Odoo reflects the partner fields on it too
            xmlids = [xmlid] + ([f"{module_name(addon_dir)}.field_res_users__{name}"] if model == "res.partner" else [])
            for attr, kind in (("string", "field_description"), ("help", "help")):
                if info.get(attr):
                    for ref in xmlids:
                        yield info[attr], f"model:ir.model.fields,{kind}:{ref}"
            if info["type"] == "selection":
                for key, label in info["_args"][0]:
                    yield label, (f"model:ir.model.fields.selection,name:{module_name(addon_dir)}.selection__"
                                  f"{_model_key(model)}__{name}__{key}")


def data_terms(addon_dir: Path, data_files: list[str]):
    for rel in data_files:
        if not rel.endswith(".xml"):
            continue
        root = ET.parse(addon_dir / rel).getroot()
        for record in root.iter("record"):
            model, rid = record.get("model"), record.get("id")
            xmlid = rid if "." in rid else f"{module_name(addon_dir)}.{rid}"
            if model == "ir.ui.view":
                arch = next(f for f in record.findall("field") if f.get("name") == "arch")
                for term in view_terms(arch):
                    yield term, f"model_terms:ir.ui.view,arch_db:{xmlid}"
            for field in record.findall("field"):
                if field.get("name") in TRANSLATED_RECORD_FIELDS.get(model, ()) and (field.text or "").strip():
                    yield field.text.strip(), f"model:{model},{field.get('name')}:{xmlid}"
                if field.get("name") in TRANSLATED_HTML_FIELDS.get(model, ()):
                    for block in field:
                        text = " ".join("".join(block.itertext()).split())
                        if text:
                            yield text, f"model_terms:{model},{field.get('name')}:{xmlid}"
        for menu in root.iter("menuitem"):
            if menu.get("name"):
                mid = menu.get("id")
                yield menu.get("name"), f"model:ir.ui.menu,name:{mid if '.' in mid else f'{module_name(addon_dir)}.{mid}'}"


def view_terms(arch: ET.Element):
    for node in arch.iter():
        if node is arch or not isinstance(node.tag, str) or node.tag in ("xpath", "attribute"):
            continue
        for attr in TRANSLATED_ATTRS:
            if node.get(attr):
                yield node.get(attr)
        for text in (node.text, node.tail if node.tail is not None and node is not arch else None):
            if text and text.strip():
                if "\n" in text.strip():
                    raise ValueError(f"keep view texts on one line (Odoo exports them as written): {text!r}")
                yield text.strip()


def terms(addon_dir: Path) -> dict[str, list[str]]:
    """``{msgid: [references]}`` of an addon, references in Odoo's order (models, views, code)."""
    manifest = ast.literal_eval((addon_dir / "__manifest__.py").read_text())
    found: dict[str, list[str]] = {}
    for source in (data_terms(addon_dir, manifest["data"]), field_terms(addon_dir), code_terms(addon_dir)):
        for msgid, ref in source:
            refs = found.setdefault(msgid, [])
            if ref not in refs:
                refs.append(ref)
    return found


# ----------------------------------------------------------------- writing


def _quote(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\t", "\\t").replace("\n", "\\n")


def _po_string(keyword: str, text: str) -> list[str]:
    quoted = _quote(text)
    if len(keyword) + len(quoted) + 3 <= WIDTH and "\\n" not in quoted:
        return [f'{keyword} "{quoted}"']
    lines, chunk = [f'{keyword} ""'], ""
    for word in re.findall(r"\S+\s*|\s+", quoted):
        if chunk and len(chunk) + len(word) > WIDTH - 2:
            lines.append(f'"{chunk}"')
            chunk = ""
        chunk += word
    if chunk:
        lines.append(f'"{chunk}"')
    return lines


def render(addon_dir: Path) -> str:
    version = ast.literal_eval((addon_dir / "__manifest__.py").read_text())["version"]
    serie = ".".join(version.split(".")[:2])
    out = [
        "# Translation of Odoo Server.",
        "# This file contains the translation of the following modules:",
        f"# \t* {module_name(addon_dir)}",
        "#",
        'msgid ""',
        'msgstr ""',
        f'"Project-Id-Version: Odoo Server {serie}\\n"',
        '"Report-Msgid-Bugs-To: \\n"',
        '"POT-Creation-Date: 2026-11-28 00:00+0000\\n"',
        '"PO-Revision-Date: 2026-11-28 00:00+0000\\n"',
        '"Last-Translator: \\n"',
        '"Language-Team: \\n"',
        '"MIME-Version: 1.0\\n"',
        '"Content-Type: text/plain; charset=UTF-8\\n"',
        '"Content-Transfer-Encoding: \\n"',
        '"Plural-Forms: \\n"',
        "",
    ]
    for msgid, refs in sorted(terms(addon_dir).items()):
        out.append(f"#. module: {module_name(addon_dir)}")
        if any(ref.startswith("code:") for ref in refs):
            out.append("#. odoo-python")
        out.extend(f"#: {ref}" for ref in refs)
        if any(ref.startswith("code:") for ref in refs) and re.search(r"%(\(\w+\))?[sd]", msgid):
            out.append("#, python-format")
        out.extend(_po_string("msgid", msgid))
        out.append('msgstr ""')
        out.append("")
    return "\n".join(out)


def pot_path(addon_dir: Path) -> Path:
    return addon_dir / "i18n" / f"{module_name(addon_dir)}.pot"


def main() -> None:
    from .harness import ADDONS_DIR

    for name in ("credit_guard", "credit_guard_19", "credit_guard_stock", "credit_guard_stock_19"):
        addon_dir = ADDONS_DIR / name
        pot_path(addon_dir).parent.mkdir(exist_ok=True)
        pot_path(addon_dir).write_text(render(addon_dir))
        print(f"wrote {pot_path(addon_dir)}: {len(terms(addon_dir))} terms")


if __name__ == "__main__":
    main()
