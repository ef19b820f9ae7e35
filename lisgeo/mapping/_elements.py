"""Page elements whose output is written verbatim.

branca renders a ``MacroElement``'s macros and then wraps each output in a new ``Element``, whose
text is *compiled as a Jinja template and rendered again*. Any ``{{ … }}`` or ``{% … %}`` in a title,
label, tooltip or data value would then be evaluated as Jinja in the process building the map (and
a stray ``{%`` would crash it). lisgeo's elements render their macros once and place the output as
plain text; text that folium's own templates carry (layer names in the layer control) is escaped
with :func:`template_safe_html`.
"""

from __future__ import annotations

import html

from branca.element import Element, MacroElement

__all__ = ["VerbatimText", "VerbatimMacroElement", "template_safe_html"]


class VerbatimText(Element):
    """Text placed in the page as it is (never compiled as a template)."""

    def __init__(self, text: str):
        super().__init__()
        self.text = text

    def render(self, **kwargs) -> str:  # noqa: D102 - see class
        return self.text


class VerbatimMacroElement(MacroElement):
    """A MacroElement whose header/html/script macros are rendered once, their output kept verbatim."""

    def render(self, **kwargs):
        figure = self.get_root()
        module = self._template.module
        for part, target in (("header", figure.header), ("html", figure.html), ("script", figure.script)):
            macro = module.__dict__.get(part)
            if macro is not None:
                target.add_child(VerbatimText(str(macro(self, kwargs))), name=self.get_name())
        for element in self._children.values():
            element.render(**kwargs)


def template_safe_html(text: str) -> str:
    """HTML-escaped text that is also inert as a Jinja template (braces as character references)."""
    return html.escape(str(text), quote=True).replace("{", "&#123;").replace("}", "&#125;")
