// The one way a string from a model (layer names, the graph's name, IR text) reaches report.html
// or an SVG picture: as escaped text. Models are untrusted input; a layer named `<script>` must
// show as those characters, in element text and in attribute values alike.
const ENTITIES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export const escapeMarkup = (text: string): string => text.replace(/[&<>"']/g, (c) => ENTITIES[c]);
