"""Symbology shared by every export: colours, classes, and QGIS QML / OGC SLD layer styles.

One list of `StyleRule` per layer is the single source of truth: the GeoPackage's
``layer_styles`` table gets it as QML (what QGIS loads by default) and as SLD, and the web map
and the PNG charts use the same colours and classes.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass

# Okabe-Ito: distinguishable with the common colour-vision deficiencies.
PALETTE = ("#E69F00", "#0072B2", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#F0E442", "#000000")

# Demand unit classes: (value of the `coverage` field, colour, label).
# Greys and one red, so that communities never look like a facility type.
COVERAGE_CLASSES = (
    ("covered", "#ffffff", "全部覆盖 covered by every type serving it"),
    ("partly", "#a6a6a6", "部分覆盖 covered by some types"),
    ("uncovered", "#e31a1c", "未覆盖 covered by none"),
    ("not_served", "#404040", "无服务类型 no type serves it"),
)

# Zone classes by target achievement: (value of `target_class`, colour, label).
ZONE_CLASSES = (
    ("met", "#91cf60", "目标全部达成 every target met"),
    ("near", "#fee08b", "达成≥90% at least 90% of a target"),
    ("partial", "#fc8d59", "达成50–90% 50–90% of a target"),
    ("short", "#d73027", "达成<50% under 50% of a target"),
    ("none", "#bdbdbd", "无片区目标 no target reads per zone"),
)

ZONE_OUTLINE = "#4d4d4d"


@dataclass(frozen=True)
class StyleRule:
    """One legend entry: features whose fields equal `where` get this symbol.

    Attributes
    ----------
    label : str
        Legend text.
    where : tuple of (field, value)
        Equality filters, all of which must hold (empty: every feature).
    colour : str
        ``#rrggbb`` fill colour.
    shape : str
        ``"circle"`` or ``"square"`` for points, ``"fill"`` for polygons.
    fill_alpha : float
        Fill opacity in [0, 1].
    size_mm : float
        Marker size (points only).
    outline : str, optional
        Polygon outline colour (default: `colour`).
    """

    label: str
    where: tuple[tuple[str, str | int], ...]
    colour: str
    shape: str = "circle"
    fill_alpha: float = 1.0
    size_mm: float = 3.0
    outline: str | None = None


def type_colours(type_names: tuple[str, ...] | list[str]) -> dict[str, str]:
    """Facility type -> colour, in scenario order (the palette repeats after eight types)."""
    return {name: PALETTE[t % len(PALETTE)] for t, name in enumerate(type_names)}


def achievement_class(achievement: float | None, all_met: bool | None) -> str:
    """The `target_class` of a zone: ``met``, ``near``, ``partial``, ``short`` or ``none``.

    `achievement` is the zone's worst achieved / required ratio over the targets that read per
    zone; None when no target does.
    """
    if achievement is None or all_met is None:
        return "none"
    if all_met:
        return "met"
    if achievement >= 0.9:
        return "near"
    return "partial" if achievement >= 0.5 else "short"


def layer_rules(layer: str, type_names: tuple[str, ...]) -> list[StyleRule]:
    """The legend of one exported layer (``facilities``, ``demand``, ``service_areas``, ``zones``)."""
    colours = type_colours(type_names)
    if layer == "facilities":
        return [StyleRule(f"{name}（{'新建 new' if new else '现有 existing'}）",
                          (("type", name), ("new", int(new))), colours[name],
                          "circle" if new else "square", 1.0, 3.4 if new else 3.0)
                for name in type_names for new in (True, False)]
    if layer == "service_areas":
        return [StyleRule(f"{name} 服务范围", (("type", name),), colours[name], "fill", 0.12)
                for name in type_names]
    if layer == "demand":
        return [StyleRule(label, (("coverage", value),), colour, "circle", 0.9, 1.6)
                for value, colour, label in COVERAGE_CLASSES]
    if layer == "zones":
        return [StyleRule(label, (("target_class", value),), colour, "fill", 0.3, outline=ZONE_OUTLINE)
                for value, colour, label in ZONE_CLASSES]
    raise ValueError(f"no style for layer `{layer}`")


def _rgba(colour: str, alpha: float) -> str:
    r, g, b = (int(colour[k:k + 2], 16) for k in (1, 3, 5))
    return f"{r},{g},{b},{round(255 * alpha)}"


def _expression(where: tuple[tuple[str, str | int], ...]) -> str:
    parts = []
    for field, value in where:
        literal = str(value) if isinstance(value, int) else "'" + value.replace("'", "''") + "'"
        parts.append(f'"{field}" = {literal}')
    return " AND ".join(parts)


def _options(parent: ET.Element, values: dict[str, str]) -> None:
    options = ET.SubElement(parent, "Option", type="Map")
    for name, value in values.items():
        ET.SubElement(options, "Option", type="QString", name=name, value=value)


def _qml_symbol(parent: ET.Element, key: str, rule: StyleRule) -> None:
    polygon = rule.shape == "fill"
    symbol = ET.SubElement(parent, "symbol", type="fill" if polygon else "marker", name=key,
                           alpha="1", clip_to_extent="1", force_rhr="0")
    layer = ET.SubElement(symbol, "layer", {"class": "SimpleFill" if polygon else "SimpleMarker",
                                            "pass": "0", "locked": "0", "enabled": "1"})
    common = {"color": _rgba(rule.colour, rule.fill_alpha), "outline_style": "solid"}
    if polygon:
        _options(layer, common | {"style": "solid", "outline_color": _rgba(rule.outline or rule.colour, 1.0),
                                  "outline_width": "0.5", "outline_width_unit": "MM"})
    else:
        _options(layer, common | {"name": rule.shape, "size": f"{rule.size_mm:g}", "size_unit": "MM",
                                  "outline_color": "35,35,35,255", "outline_width": "0.3",
                                  "outline_width_unit": "MM"})


def qml_document(rules: list[StyleRule], aliases: dict[str, str], *, polygon: bool) -> str:
    """A QGIS style (QML): a rule-based renderer with one rule per `StyleRule`, and field aliases."""
    root = ET.Element("qgis", version="3.22.16", styleCategories="Symbology|Fields")
    renderer = ET.SubElement(root, "renderer-v2", type="RuleRenderer", symbollevels="0",
                             enableorderby="0", forceraster="0")
    tree = ET.SubElement(renderer, "rules", key="root")
    symbols = ET.SubElement(renderer, "symbols")
    for k, rule in enumerate(rules):
        ET.SubElement(tree, "rule", key=f"rule{k}", symbol=str(k), label=rule.label,
                      filter=_expression(rule.where) or "ELSE")
        _qml_symbol(symbols, str(k), rule)
    alias_node = ET.SubElement(root, "aliases")
    for index, (field, alias) in enumerate(aliases.items()):
        ET.SubElement(alias_node, "alias", field=field, index=str(index), name=alias)
    ET.SubElement(root, "layerGeometryType").text = "2" if polygon else "0"
    body = ET.tostring(root, encoding="unicode")
    return "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n" + body


_SLD = "http://www.opengis.net/sld"
_SE = "http://www.opengis.net/se"
_OGC = "http://www.opengis.net/ogc"


def _sld_filter(parent: ET.Element, where: tuple[tuple[str, str | int], ...]) -> None:
    if not where:
        return
    node = ET.SubElement(parent, f"{{{_OGC}}}Filter")
    if len(where) > 1:
        node = ET.SubElement(node, f"{{{_OGC}}}And")
    for field, value in where:
        equal = ET.SubElement(node, f"{{{_OGC}}}PropertyIsEqualTo")
        ET.SubElement(equal, f"{{{_OGC}}}PropertyName").text = field
        ET.SubElement(equal, f"{{{_OGC}}}Literal").text = str(value)


def _sld_params(parent: ET.Element, tag: str, values: dict[str, str]) -> None:
    node = ET.SubElement(parent, f"{{{_SE}}}{tag}")
    for name, value in values.items():
        ET.SubElement(node, f"{{{_SE}}}SvgParameter", name=name).text = value


def _sld_symbolizer(parent: ET.Element, rule: StyleRule) -> None:
    fill = {"fill": rule.colour, "fill-opacity": f"{rule.fill_alpha:g}"}
    if rule.shape == "fill":
        symbolizer = ET.SubElement(parent, f"{{{_SE}}}PolygonSymbolizer")
        _sld_params(symbolizer, "Fill", fill)
        _sld_params(symbolizer, "Stroke", {"stroke": rule.outline or rule.colour, "stroke-width": "1"})
        return
    graphic = ET.SubElement(ET.SubElement(parent, f"{{{_SE}}}PointSymbolizer"), f"{{{_SE}}}Graphic")
    mark = ET.SubElement(graphic, f"{{{_SE}}}Mark")
    ET.SubElement(mark, f"{{{_SE}}}WellKnownName").text = rule.shape
    _sld_params(mark, "Fill", fill)
    _sld_params(mark, "Stroke", {"stroke": "#232323", "stroke-width": "0.5"})
    ET.SubElement(graphic, f"{{{_SE}}}Size").text = f"{rule.size_mm * 3.78:.0f}"


def sld_document(layer: str, rules: list[StyleRule]) -> str:
    """The same rules as an OGC SLD 1.1 document (for GeoServer, QGIS and other clients)."""
    for prefix, uri in (("sld", _SLD), ("se", _SE), ("ogc", _OGC)):
        ET.register_namespace(prefix, uri)
    root = ET.Element(f"{{{_SLD}}}StyledLayerDescriptor", version="1.1.0")
    named = ET.SubElement(root, f"{{{_SLD}}}NamedLayer")
    ET.SubElement(named, f"{{{_SE}}}Name").text = layer
    style = ET.SubElement(named, f"{{{_SLD}}}UserStyle")
    ET.SubElement(style, f"{{{_SE}}}Name").text = layer
    feature_style = ET.SubElement(style, f"{{{_SE}}}FeatureTypeStyle")
    for k, rule in enumerate(rules):
        node = ET.SubElement(feature_style, f"{{{_SE}}}Rule")
        ET.SubElement(node, f"{{{_SE}}}Name").text = f"rule{k}"
        ET.SubElement(ET.SubElement(node, f"{{{_SE}}}Description"), f"{{{_SE}}}Title").text = rule.label
        _sld_filter(node, rule.where)
        _sld_symbolizer(node, rule)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode")
