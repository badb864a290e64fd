"""Channel and marker icons, drawn for journeylens on a 20×20 grid as SVG symbols."""

from __future__ import annotations

from xml.etree.ElementTree import Element, SubElement

_STROKE = {
    "fill": "none",
    "stroke": "currentColor",
    "stroke-width": "1.6",
    "stroke-linecap": "round",
    "stroke-linejoin": "round",
}

# Each icon: a list of (tag, attributes). Stroked unless the attributes say otherwise.
_ICONS: dict[str, list[tuple[str, dict[str, str]]]] = {
    "store": [
        ("path", {"d": "M3 8 L5 3 H15 L17 8 Z"}),
        ("path", {"d": "M4 8 V17 H16 V8"}),
        ("path", {"d": "M8.5 17 V12 H11.5 V17"}),
    ],
    "web": [
        ("circle", {"cx": "10", "cy": "10", "r": "7"}),
        ("ellipse", {"cx": "10", "cy": "10", "rx": "3", "ry": "7"}),
        ("path", {"d": "M3 10 H17 M4.5 6.5 H15.5 M4.5 13.5 H15.5"}),
    ],
    "app": [
        ("rect", {"x": "6", "y": "2.5", "width": "8", "height": "15", "rx": "1.6"}),
        ("path", {"d": "M9 15 H11"}),
    ],
    "social": [
        ("rect", {"x": "3", "y": "3", "width": "14", "height": "14", "rx": "4"}),
        ("circle", {"cx": "10", "cy": "10", "r": "3.2"}),
        ("circle", {"cx": "14", "cy": "6", "r": "0.6", "fill": "currentColor"}),
    ],
    "review": [
        (
            "path",
            {
                "d": "M10 2.8 L12.1 7.3 L17 7.8 L13.3 11.1 L14.4 16 L10 13.5 "
                "L5.6 16 L6.7 11.1 L3 7.8 L7.9 7.3 Z"
            },
        )
    ],
    "forum": [
        ("path", {"d": "M2.5 4 H12.5 V10.5 H7 L4.5 13 V10.5 H2.5 Z"}),
        ("path", {"d": "M12.5 7 H17.5 V13.5 H15.5 V16 L13 13.5 H8 V10.5"}),
    ],
    "email": [
        ("rect", {"x": "2.5", "y": "4.5", "width": "15", "height": "11", "rx": "1.5"}),
        ("path", {"d": "M3 5.5 L10 11 L17 5.5"}),
    ],
    "mail": [
        ("rect", {"x": "2.5", "y": "4.5", "width": "15", "height": "11", "rx": "1.5"}),
        ("path", {"d": "M3 5.5 L10 11 L17 5.5 M3 15 L8 10.5 M17 15 L12 10.5"}),
    ],
    "chat": [
        ("path", {"d": "M3 4 H17 V13 H9 L5 16.5 V13 H3 Z"}),
        ("path", {"d": "M6.5 8.5 H13.5"}),
    ],
    "phone": [
        (
            "path",
            {
                "d": "M5.5 3 H8 L9.5 7 L7.6 8.4 A9 9 0 0 0 11.6 12.4 L13 10.5 L17 12 "
                "V14.5 A2 2 0 0 1 15 16.5 A13 13 0 0 1 3.5 5 A2 2 0 0 1 5.5 3 Z"
            },
        )
    ],
    "self_service": [
        ("circle", {"cx": "10", "cy": "10", "r": "7.5"}),
        ("path", {"d": "M7.6 7.8 A2.5 2.5 0 1 1 11 10 C10.3 10.3 10 10.8 10 11.6"}),
        ("circle", {"cx": "10", "cy": "14.3", "r": "0.7", "fill": "currentColor"}),
    ],
    "ads": [
        ("path", {"d": "M3 8 V12 H6 L14 16 V4 L6 8 Z"}),
        ("path", {"d": "M6 12 L7.5 17"}),
        ("path", {"d": "M16.5 8 V12"}),
    ],
    "event": [
        ("rect", {"x": "3", "y": "4.5", "width": "14", "height": "12", "rx": "1.5"}),
        ("path", {"d": "M3 8.5 H17 M7 2.5 V6 M13 2.5 V6"}),
    ],
    "partner": [
        ("rect", {"x": "2.5", "y": "7", "width": "8", "height": "6", "rx": "3"}),
        ("rect", {"x": "9.5", "y": "7", "width": "8", "height": "6", "rx": "3"}),
    ],
    "other": [
        ("circle", {"cx": "10", "cy": "10", "r": "6"}),
        ("circle", {"cx": "10", "cy": "10", "r": "1.5", "fill": "currentColor"}),
    ],
    "star": [
        (
            "path",
            {
                "d": "M10 1.8 L12.4 7 L18 7.6 L13.8 11.3 L15 16.9 L10 14 L5 16.9 "
                "L6.2 11.3 L2 7.6 L7.6 7 Z",
                "fill": "currentColor",
                "stroke": "none",
            },
        )
    ],
    "pain": [
        ("path", {"d": "M10 2.5 L18 16.5 H2 Z", "fill": "currentColor", "stroke": "none"}),
        ("path", {"d": "M10 7.5 V11.5", "stroke": "#fff", "stroke-width": "1.8"}),
        ("circle", {"cx": "10", "cy": "14", "r": "1", "fill": "#fff", "stroke": "none"}),
    ],
    "idea": [
        ("path", {"d": "M7 13 A5.5 5.5 0 1 1 13 13 V14.5 H7 Z"}),
        ("path", {"d": "M7.5 17 H12.5"}),
    ],
    "decision": [("path", {"d": "M10 2.5 L17.5 10 L10 17.5 L2.5 10 Z"})],
    "wait": [
        (
            "path",
            {
                "d": "M5 3 H15 M5 17 H15 M6 3 C6 8 14 8 14 10 C14 12 6 12 6 17 "
                "M14 3 C14 8 6 8 6 10 C6 12 14 12 14 17"
            },
        )
    ],
}

ICON_NAMES = frozenset(_ICONS)


def symbol(name: str) -> Element:
    """A ``<symbol id="icon-NAME">`` to place once in ``<defs>`` and ``<use>`` anywhere."""
    element = Element("symbol", {"id": f"icon-{name}", "viewBox": "0 0 20 20"})
    for tag, attributes in _ICONS[name]:
        SubElement(element, tag, {**_STROKE, **attributes})
    return element
