"""R4 narrative rules (narrative.html, txt-1 and txt-2) on the XHTML of ``Narrative.div``.

The div is parsed with a real XML parser (lxml) configured to load nothing: no DTD, no
external entities, no network. A narrative that breaks a rule is refused, never
rewritten. The rules:

- well-formed XML; a ``div`` root in the XHTML namespace; every element in that namespace;
  no DOCTYPE, no processing instructions, no entities beyond XML's own five (R4 xhtml:
  "there is no support for HTML entities like &nbsp;");
- only the basic formatting elements R4 allows (the list the HL7 reference validator
  enforces), so no head, body, script, style, form, input, base, link, meta, frame,
  iframe, object, embed, svg...; only their allowed attributes, so no event handlers;
- URLs (``a@href``, ``img@src``, ``@cite``...): http, https, mailto, tel, ftp (the R4
  examples link IHE material over ftp), ``#fragment`` or a relative path; ``img@src``
  may also be a ``data:image/...`` URL. Never ``javascript:``, ``vbscript:``, ``data:``
  elsewhere, or any other scheme;
- ``style`` attributes (R4 allows "internally contained style") without script-capable
  CSS: no ``expression(``, ``behavior``, ``-moz-binding``, ``@import``, and ``url(...)``
  only to an allowed URL;
- txt-2: some non-whitespace text, or an image.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from lxml import etree

XHTML_NS = "http://www.w3.org/1999/xhtml"
XML_NS = "http://www.w3.org/XML/1998/namespace"


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# The lists the HL7 reference validator enforces for R4 narrative.
ELEMENTS = _words(
    "p br div h1 h2 h3 h4 h5 h6 a span b em i strong small big tt dfn q var abbr acronym cite "
    "blockquote hr address bdo kbd sub sup ul ol li dl dt dd pre table caption colgroup col "
    "thead tr tfoot tbody th td code samp img map area"
)
ATTRIBUTES = _words(
    "title style class id lang xml:lang xml:space dir accesskey tabindex "
    "span width align valign char charoff abbr axis headers scope rowspan colspan"
)
ELEMENT_ATTRIBUTES = _words(
    "a.href a.name a.charset a.type a.hreflang a.rel a.rev a.shape a.coords img.src img.border "
    "img.alt img.longdesc img.height img.width img.usemap img.ismap map.name area.shape "
    "area.coords area.href area.nohref area.alt blockquote.cite q.cite table.summary "
    "table.width table.border table.frame table.rules table.cellspacing table.cellpadding "
    "pre.space td.nowrap"
)
URL_ATTRIBUTES = frozenset({"href", "src", "cite", "longdesc", "usemap"})
SCHEMES = frozenset({"http", "https", "mailto", "tel", "ftp"})

_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):")
# browsers drop ASCII whitespace and control characters inside a URL's scheme
_IGNORED_IN_URL = re.compile(r"[\x00-\x20]+")
_CSS_DANGER = re.compile(r"expression\s*\(|behaviou?r\s*:|-moz-binding|@import|javascript:", re.I)
_CSS_URL = re.compile(r"url\s*\(\s*['\"]?([^'\")]*)", re.I)


@dataclass(frozen=True, slots=True)
class NarrativeProblems:
    """What is wrong with a div: ``markup`` (txt-1) and ``empty`` (txt-2)."""

    markup: str | None
    empty: bool


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_blank_text=False
    )


@functools.lru_cache(maxsize=4)
def check_div(div: str) -> NarrativeProblems:
    """Both rules for one div (cached: txt-1 and txt-2 ask about the same text)."""
    if "<!DOCTYPE" in div or "<!ENTITY" in div:
        return NarrativeProblems("a narrative may not declare a DOCTYPE or entities", False)
    try:
        root = etree.fromstring(div.encode("utf-8"), _parser())
    except etree.XMLSyntaxError as exc:
        return NarrativeProblems(f"not well-formed XHTML: {exc.msg}", False)
    except ValueError:  # text XML cannot carry (lone surrogates, some control characters)
        return NarrativeProblems("not well-formed XHTML: characters XML does not allow", False)
    if root.tag != f"{{{XHTML_NS}}}div":
        return NarrativeProblems("the root must be a div in the XHTML namespace", False)
    markup = _markup_problem(root)
    empty = not _has_content(root)
    return NarrativeProblems(markup, empty)


def _markup_problem(root: etree._Element) -> str | None:
    for node in root.iter():
        if isinstance(node, etree._Comment):
            continue
        if isinstance(node, (etree._ProcessingInstruction, etree._Entity)):
            return "processing instructions and entities are not allowed"
        tag = node.tag
        if not isinstance(tag, str) or not tag.startswith(f"{{{XHTML_NS}}}"):
            return f"element {tag} is not in the XHTML namespace"
        name = tag[len(XHTML_NS) + 2 :]
        if name not in ELEMENTS:
            return f"<{name}> is not allowed in a narrative"
        for attribute, value in node.attrib.items():
            problem = _attribute_problem(name, str(attribute), str(value))
            if problem is not None:
                return problem
    return None


def _attribute_problem(element: str, attribute: str, value: str) -> str | None:
    if attribute.startswith(f"{{{XML_NS}}}"):
        attribute = "xml:" + attribute[len(XML_NS) + 2 :]
    elif attribute.startswith("{"):
        return f"the attribute {attribute} is not allowed on <{element}>"
    if attribute not in ATTRIBUTES and f"{element}.{attribute}" not in ELEMENT_ATTRIBUTES:
        return f"the attribute {attribute} is not allowed on <{element}>"
    if attribute in URL_ATTRIBUTES and not url_allowed(value, image=element == "img" and attribute == "src"):
        return f"<{element} {attribute}> may not point at {value[:60]!r}"
    if attribute == "style":
        return _style_problem(element, value)
    return None


def url_allowed(url: str, *, image: bool = False) -> bool:
    """http(s), mailto, tel, ftp, #fragment or a relative path (data:image/ for images)."""
    compact = _IGNORED_IN_URL.sub("", url)
    match = _SCHEME.match(compact)
    if match is None:
        return True  # a relative path or a fragment
    scheme = match.group(1).lower()
    if scheme in SCHEMES:
        return True
    return image and scheme == "data" and compact[5:].lower().startswith("image/")


def _style_problem(element: str, style: str) -> str | None:
    if _CSS_DANGER.search(style):
        return f"the style of <{element}> may not run script or load other stylesheets"
    for target in _CSS_URL.findall(style):
        if not url_allowed(target, image=True):
            return f"the style of <{element}> may not load {target[:60]!r}"
    return None


def _has_content(root: etree._Element) -> bool:
    for node in root.iter():
        if isinstance(node, etree._Comment):
            if node.tail and node.tail.strip():
                return True
            continue
        if node.tag == f"{{{XHTML_NS}}}img":
            return True
        if (node.text and node.text.strip()) or (node is not root and node.tail and node.tail.strip()):
            return True
    return False
