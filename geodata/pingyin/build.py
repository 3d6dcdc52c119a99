"""Generate the demo county ``pingyin.gpkg`` around the official roster of 平阴县 (370124).

    python geodata/pingyin/build.py            # writes geodata/pingyin/pingyin.gpkg
    python geodata/pingyin/build.py OUT.gpkg   # writes elsewhere

Official, copied from the National Bureau of Statistics 2023 division codes into the two CSV
files beside this script: the 8 townships and streets and the 337 village / residents'
committees, with their names, codes and urban (居民委员会) / rural (村民委员会) class.
Everything else is generated here, seeded and reproducible: the county outline (an
approximation scaled to the official 827 km²), township cells, positions, populations,
elderly counts, roads and candidate sites. PROVENANCE.md says which figure comes from where;
the constants below are the calibration. Independent of the optimizer (numpy, scipy,
shapely, geopandas only). Layers are written in UTM zone 50N (EPSG:32650), metres.
"""

from __future__ import annotations

import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from pyproj import Transformer
from scipy.sparse import coo_array
from scipy.sparse.csgraph import connected_components, dijkstra, minimum_spanning_tree
from scipy.spatial import Delaunay
from shapely import affinity

HERE = Path(__file__).resolve().parent
OUT = HERE / "pingyin.gpkg"
CRS = "EPSG:32650"
SEED = 370124

COUNTY_AREA_KM2 = 827.0        # official area of the county (see PROVENANCE.md)
RESIDENTS = 325_000            # calibration total: 2020 census, about 320,000 residents (rounded)
SHARE_60 = 0.23                # ASSUMED county share aged 60+ (Jinan 19.96%, Dongping county 23.85%)
SHARE_80_OF_60 = 0.136         # China 2020 census: 35.80 of 264.02 million aged 60+ are 80+
URBAN_SHARE_60, RURAL_SHARE_60 = 0.195, 0.245   # ASSUMED mean shares before calibration
URBAN_MEDIAN, RURAL_MEDIAN = 3_600.0, 680.0     # ASSUMED median residents of a 社区 / 村
PERSONS_PER_HOUSEHOLD = 2.62   # China, 2020 census: 2.62 persons per family household (national figure)
#: SYNTHETIC existing institutions (drawn with their own generator, `SEED + 1`, so that adding them
#: changed nothing else): every town's 敬老院 and two 卫生院 医养结合 units, with beds by kind.
HOME_BEDS, HOME_NURSING_SHARE = (120, 240), (0.30, 0.50)          # ASSUMED, per 敬老院
CLINIC_BEDS, CLINIC_NURSING_SHARE, CLINICS_WITH_BEDS = (40, 80), (0.60, 0.80), 2   # ASSUMED, per 卫生院

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
LonLat = tuple[float, float]

#: County outline, lon/lat, drawn by hand after small-scale maps (NOT the official boundary).
OUTLINE: tuple[LonLat, ...] = (
    (116.215, 36.110), (116.300, 36.060), (116.400, 36.055), (116.490, 36.075), (116.585, 36.105),
    (116.635, 36.170), (116.625, 36.240), (116.640, 36.310), (116.610, 36.380), (116.560, 36.420),
    (116.490, 36.405), (116.430, 36.370), (116.370, 36.330), (116.300, 36.285), (116.240, 36.225),
    (116.205, 36.165))
#: Township / street seats, lon/lat, approximate (placed by hand, not surveyed).
SEATS: dict[str, LonLat] = {
    "370124001": (116.437, 36.296), "370124002": (116.468, 36.272), "370124102": (116.255, 36.165),
    "370124103": (116.530, 36.135), "370124104": (116.575, 36.215), "370124105": (116.345, 36.100),
    "370124106": (116.540, 36.360), "370124107": (116.335, 36.265)}
STREETS = ("370124001", "370124002")   # 榆山街道, 锦水街道: the county town
MOTORWAY: tuple[LonLat, ...] = ((116.385, 36.050), (116.470, 36.160), (116.525, 36.250),
                                (116.600, 36.330), (116.625, 36.395))

TYPES = ("station", "meal_point", "happiness_home", "centre", "institution", "dementia_centre")
NEW_BUILD_CNY = np.array([600e3, 150e3, 400e3, 3_000e3, 30_000e3, 5_000e3])   # ASSUMED, per type
#: kind -> (Chinese, cost factor against new build, allowed (base types), extra county-level types)
SITE_KINDS: dict[str, tuple[str, float, str, str]] = {
    "village_room": ("村委会用房", 0.45, "happiness_home,meal_point", ""),
    "idle_school": ("闲置校舍", 0.55, "happiness_home,meal_point", ""),
    "clinic": ("村卫生室", 0.50, "happiness_home,meal_point", ""),
    "new_parcel": ("新建用地", 1.00, "happiness_home,meal_point", ""),
    "community_room": ("社区服务用房", 0.45, "station,meal_point", ""),
    "idle_building": ("闲置用房", 0.60, "station,meal_point,centre", ""),
    "urban_parcel": ("新建用地", 1.00, "station,meal_point,centre", ""),
    "nursing_home": ("敬老院", 0.50, "centre,meal_point", "institution,dementia_centre"),
    "health_centre": ("卫生院", 0.60, "centre,meal_point", "institution,dementia_centre"),
    "office": ("政府闲置用房", 0.55, "centre,meal_point", ""),
    "county_parcel": ("县城新建用地", 1.00, "", "institution,dementia_centre"),
}


def main(out: Path = OUT) -> None:
    """Generate every layer from the roster and write the GeoPackage `out`."""
    rng = np.random.default_rng(SEED)
    townships, units = read_roster()
    outline, seat_xy = county_frame()
    cells = township_cells(outline, seat_xy)
    town = town_area(seat_xy)
    unit_xy = place_units(units, cells, town, seat_xy, rng)
    units = units.assign(**populations(units["kind"].to_numpy(), rng))
    roads, lanes = road_network(units, unit_xy, seat_xy, town, rng)
    sites = candidate_sites(units, unit_xy, lanes, seat_xy, cells, town, rng)
    extra = np.random.default_rng(SEED + 1)   # households and institutions: the stream above is unchanged
    units = units.assign(hh=households(units["pop"].to_numpy(), extra))
    sites = institutions(sites, extra)
    layers = {"demand": _points(units, unit_xy), "sites": sites,
              "townships": township_layer(townships, cells, units), "roads": roads}
    out.unlink(missing_ok=True)
    for name, frame in layers.items():
        frame.to_file(out, layer=name, driver="GPKG")
    print(f"{out.name}: {len(units)} units ({units['pop'].sum():,} residents, {units['pop60'].sum():,} "
          f"aged 60+, {units['pop80'].sum():,} aged 80+), {len(sites)} sites, {len(roads)} road lines")


def read_roster() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The official rows: townships (code, name) and units (code, name, township, kind)."""
    townships = pd.read_csv(HERE / "townships_nbs2023.csv", dtype=str)[["code", "name"]]
    villages = pd.read_csv(HERE / "villages_nbs2023.csv", dtype=str)
    # NBS coding: committee digits 001-199 are residents' committees (居委会, urban), 200-399 村委会
    urban = villages["code"].str[9].eq("0") & villages["name"].str.endswith("居民委员会")
    units = pd.DataFrame({
        "id": villages["code"], "name": villages["name"], "township_code": villages["streetCode"],
        "township": villages["streetCode"].map(townships.set_index("code")["name"]),
        "kind": np.where(urban, "urban", "rural")})
    return townships.sort_values("code", ignore_index=True), units.sort_values("id", ignore_index=True)


def county_frame() -> tuple[shapely.Polygon, dict[str, FloatArray]]:
    """The outline and the seats in metres, scaled together to the official county area."""
    outline = shapely.Polygon(to_metric(OUTLINE))
    return outline, dict(zip(SEATS, to_metric(tuple(SEATS.values())), strict=True))


def to_metric(lonlat: tuple[LonLat, ...]) -> FloatArray:
    """Lon/lat -> UTM 50N metres, scaled about the outline's centroid so that it has the official area."""
    to_utm = Transformer.from_crs("EPSG:4326", CRS, always_xy=True)
    ring = np.column_stack(to_utm.transform(*np.array(OUTLINE).T))
    centre = np.array(shapely.Polygon(ring).centroid.coords[0])
    scale = np.sqrt(COUNTY_AREA_KM2 * 1e6 / shapely.Polygon(ring).area)
    xy = np.column_stack(to_utm.transform(*np.array(lonlat).T))
    return np.round(centre + (xy - centre) * scale, 2)


def township_cells(outline: shapely.Polygon, seat_xy: dict[str, FloatArray]) -> dict[str, shapely.Geometry]:
    """Voronoi cell of each seat, clipped to the outline (a sketch of the township boundaries)."""
    points = shapely.points(np.array(list(seat_xy.values())))
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(points), extend_to=outline))
    owner = [int(np.flatnonzero(shapely.contains(cell, points))[0]) for cell in cells]
    clipped = shapely.intersection(cells, outline)
    return {code: clipped[owner.index(k)] for k, code in enumerate(seat_xy)}


def town_area(seat_xy: dict[str, FloatArray]) -> shapely.Polygon:
    """The county town (both streets): an ellipse of 3.0 x 2.2 km half-axes along the two seats."""
    a, b = seat_xy[STREETS[0]], seat_xy[STREETS[1]]
    centre, angle = (a + b) / 2, np.degrees(np.arctan2(*(b - a)[::-1]))
    disc = shapely.Point(0, 0).buffer(1.0, quad_segs=16)
    ellipse = affinity.scale(disc, 3_000.0, 2_200.0, origin=(0, 0))
    ellipse = affinity.rotate(ellipse, angle, origin=(0, 0))
    return affinity.translate(ellipse, *centre)


def place_units(units: pd.DataFrame, cells: dict[str, shapely.Geometry], town: shapely.Polygon,
                seat_xy: dict[str, FloatArray], rng: np.random.Generator) -> FloatArray:
    """Point of every unit: urban ones in the town (or by their town's seat), villages in their cell."""
    xy = np.zeros((len(units), 2))
    for code, cell in cells.items():
        seat = shapely.Point(seat_xy[code])
        for kind in ("urban", "rural"):
            rows = np.flatnonzero((units["township_code"] == code).to_numpy() & (units["kind"] == kind).to_numpy())
            if len(rows) == 0:
                continue
            region = _unit_region(code, kind, cell, town, seat)
            centre = np.array(town.centroid.coords[0] if kind == "urban" and code in STREETS else seat.coords[0])
            xy[rows] = _around(_lattice_sample(region, len(rows), rng), centre)
    return np.round(xy, 2)


def _unit_region(code: str, kind: str, cell: shapely.Geometry, town: shapely.Polygon,
                 seat: shapely.Point) -> shapely.Geometry:
    if kind == "urban" and code in STREETS:
        return cell.intersection(town.buffer(-150.0))
    if kind == "urban":
        return seat.buffer(900.0).difference(seat.buffer(250.0)).intersection(cell)
    return cell.buffer(-250.0).difference(town.buffer(700.0)).difference(seat.buffer(500.0))


def _around(xy: FloatArray, centre: FloatArray) -> FloatArray:
    """Points ordered by bearing around `centre`: codes run round the township, as NBS codes do."""
    return xy[np.argsort(np.arctan2(xy[:, 1] - centre[1], xy[:, 0] - centre[0]))]


def _lattice_sample(region: shapely.Geometry, n: int, rng: np.random.Generator) -> FloatArray:
    """`n` points of a jittered hexagonal lattice inside `region` (minimum spacing ~0.6 lattice)."""
    spacing = np.sqrt(2.0 * region.area / (np.sqrt(3.0) * 1.8 * n))
    for _ in range(30):
        xy = _hex_lattice(region.bounds, spacing, rng)
        xy = xy[shapely.contains_xy(region, xy[:, 0], xy[:, 1])]
        if len(xy) >= n:
            return xy[np.sort(rng.choice(len(xy), n, replace=False))]
        spacing *= 0.9
    raise RuntimeError(f"cannot place {n} points in a region of {region.area / 1e6:.1f} km²")


def _hex_lattice(bounds: tuple[float, float, float, float], spacing: float,
                 rng: np.random.Generator) -> FloatArray:
    minx, miny, maxx, maxy = bounds
    rows = np.arange(miny - spacing, maxy + spacing, spacing * np.sqrt(3.0) / 2.0)
    cols = np.arange(minx - spacing, maxx + spacing, spacing)
    gx, gy = np.meshgrid(cols, rows)
    gx = gx + (np.arange(len(rows)) % 2)[:, None] * spacing / 2.0
    xy = np.column_stack([gx.ravel(), gy.ravel()]) + rng.uniform(0.0, spacing, 2)
    return xy + rng.uniform(-0.2, 0.2, xy.shape) * spacing


def populations(kind: npt.NDArray[np.str_], rng: np.random.Generator) -> dict[str, IntArray]:
    """Residents, aged 60+ and aged 80+ per unit, calibrated to the county totals above.

    Residents: log-normal around the medians (社区 1,500-9,000, 村 350-2,500 before scaling),
    scaled to `RESIDENTS`. Shares aged 60+ vary by unit around the urban / rural means and are
    scaled to `SHARE_60` county-wide; shares of 80+ among 60+ likewise to `SHARE_80_OF_60`.
    """
    n, urban = len(kind), kind == "urban"
    raw = np.where(urban, rng.lognormal(np.log(URBAN_MEDIAN), 0.35, n), rng.lognormal(np.log(RURAL_MEDIAN), 0.40, n))
    raw = np.clip(raw, np.where(urban, 1_500.0, 350.0), np.where(urban, 9_000.0, 2_500.0))
    pop = np.round(raw * RESIDENTS / raw.sum())
    share60 = np.where(urban, rng.normal(URBAN_SHARE_60, 0.02, n), rng.normal(RURAL_SHARE_60, 0.025, n))
    share60 = share60.clip(0.14, 0.34) * SHARE_60 * pop.sum() / (pop * share60.clip(0.14, 0.34)).sum()
    pop60 = np.round(pop * share60)
    share80 = rng.normal(SHARE_80_OF_60, 0.02, n).clip(0.08, 0.20)
    pop80 = np.round(pop60 * share80 * SHARE_80_OF_60 * pop60.sum() / (pop60 * share80).sum())
    return {"pop": pop.astype(np.int64), "pop60": pop60.astype(np.int64), "pop80": pop80.astype(np.int64)}


def households(pop: IntArray, rng: np.random.Generator) -> IntArray:
    """Households per unit: residents / a household size drawn around `PERSONS_PER_HOUSEHOLD`
    (x U(0.92, 1.08)), scaled so that the county's mean household size is `PERSONS_PER_HOUSEHOLD`."""
    raw = pop / (PERSONS_PER_HOUSEHOLD * rng.uniform(0.92, 1.08, len(pop)))
    return np.round(raw * pop.sum() / PERSONS_PER_HOUSEHOLD / raw.sum()).astype(np.int64)


# ---------------------------------------------------------------- roads

def road_network(units: pd.DataFrame, unit_xy: FloatArray, seat_xy: dict[str, FloatArray],
                 town: shapely.Polygon, rng: np.random.Generator) -> tuple[gpd.GeoDataFrame, FloatArray]:
    """Town streets, county / township / village roads, village lanes and one motorway.

    Returns the `roads` layer and, per unit of the rural network, the end points of its lanes
    (``[unit, lane, xy]``, NaN where a village has fewer lanes; urban units in town: NaN).
    """
    grid_xy, grid_edges, grid_main = street_grid(town, rng)
    in_town = units["kind"].eq("urban").to_numpy() & units["township_code"].isin(STREETS).to_numpy()
    towns = [code for code in SEATS if code not in STREETS]
    node_xy = np.vstack([grid_xy, [seat_xy[c] for c in towns], unit_xy[~in_town]])
    links = rural_links(node_xy, len(grid_xy), grid_edges, town, rng)
    seat_nodes = [_nearest(grid_xy, seat_xy[c]) for c in STREETS] + list(len(grid_xy) + np.arange(len(towns)))
    edges = np.vstack([grid_edges, links])
    county = _county_roads(node_xy, edges, np.array(seat_nodes))
    highway = np.concatenate([np.where(grid_main | county[:len(grid_edges)], "tertiary", "residential"),
                              np.where(county[len(grid_edges):], "secondary", "unclassified")])
    lines = np.concatenate([shapely.linestrings(node_xy[grid_edges]), _wiggled(node_xy, links, rng)])
    lane_ends = np.full((len(units), 3, 2), np.nan)
    lane_ends[~in_town], lane_lines = _lanes(unit_xy[~in_town], rng)
    motorway = _wiggled_path(to_metric(MOTORWAY), rng)
    geometry = np.concatenate([lines, lane_lines, [motorway]])
    highway = np.concatenate([highway, np.full(len(lane_lines), "residential"), ["motorway"]])
    names = {"secondary": "县乡道", "unclassified": "村道", "tertiary": "城区干道", "residential": "街巷/村内道路",
             "motorway": "高速公路（不可步行）"}
    roads = gpd.GeoDataFrame({"highway": highway, "kind_zh": [names[h] for h in highway]},
                             geometry=shapely.set_precision(geometry, 0.01), crs=CRS)
    return roads, lane_ends


def street_grid(town: shapely.Polygon, rng: np.random.Generator) -> tuple[FloatArray, IntArray, npt.NDArray[np.bool_]]:
    """A jittered street grid (230 m blocks) over the town; every 4th street is a main street."""
    spacing, half = 230.0, 16
    k = np.arange(-half, half + 1)
    gi, gj = np.meshgrid(k, k, indexing="ij")
    angle = np.radians(-12.0)
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    local = np.column_stack([gi.ravel(), gj.ravel()]) * spacing
    xy = np.array(town.centroid.coords[0]) + local @ rotation.T + rng.normal(0.0, 12.0, local.shape)
    index = np.where(shapely.contains_xy(town, xy[:, 0], xy[:, 1]), 0, -1)
    index[index == 0] = np.arange((index == 0).sum())
    index = index.reshape(gi.shape)
    edges = np.vstack([np.column_stack([index[:-1].ravel(), index[1:].ravel()]),
                       np.column_stack([index[:, :-1].ravel(), index[:, 1:].ravel()])])
    main = np.concatenate([gj[:-1].ravel() % 4 == 0, gi[:, :-1].ravel() % 4 == 0])
    keep = (edges >= 0).all(axis=1) & ((rng.random(len(edges)) > 0.08) | main)
    nodes = xy[(index >= 0).ravel()]
    return _largest_component(np.round(nodes, 2), edges[keep], main[keep])


def _largest_component(xy: FloatArray, edges: IntArray,
                       main: npt.NDArray[np.bool_]) -> tuple[FloatArray, IntArray, npt.NDArray[np.bool_]]:
    graph = coo_array((np.ones(len(edges)), edges.T), shape=(len(xy), len(xy)))
    _, label = connected_components(graph, directed=False)
    keep = label == np.bincount(label).argmax()
    renumber = np.cumsum(keep) - 1
    inside = keep[edges].all(axis=1)
    return xy[keep], renumber[edges[inside]], main[inside]


def rural_links(node_xy: FloatArray, n_grid: int, grid_edges: IntArray, town: shapely.Polygon,
                rng: np.random.Generator) -> IntArray:
    """Roads between villages and seats: the spanning tree of a Delaunay mesh plus short loops.

    Candidates are Delaunay edges (town-edge street nodes, seats, villages) up to 4.5 km that
    do not cross the town; the grid counts as one connected piece. Every spanning-tree link is
    kept (every village is reached), and 30% of the other links under 2.6 km (loops).
    """
    rim = np.flatnonzero(shapely.distance(town.exterior, shapely.points(node_xy[:n_grid])) < 400.0)
    pool = np.concatenate([rim, np.arange(n_grid, len(node_xy))])
    tri = Delaunay(node_xy[pool])
    pairs = np.sort(pool[np.vstack([tri.simplices[:, [0, 1]], tri.simplices[:, [1, 2]], tri.simplices[:, [0, 2]]])],
                    axis=1)
    pairs = np.unique(pairs, axis=0)
    length = np.linalg.norm(node_xy[pairs[:, 0]] - node_xy[pairs[:, 1]], axis=1)
    crosses = shapely.intersects(shapely.linestrings(node_xy[pairs]), town.buffer(-120.0))
    ok = (pairs[:, 1] >= n_grid) & (length <= 4_500.0) & ~crosses
    pairs, length = pairs[ok], length[ok]
    weights = np.concatenate([length, np.full(len(grid_edges), 1e-3)])
    both = np.vstack([pairs, grid_edges])
    tree = minimum_spanning_tree(coo_array((weights, both.T), shape=(len(node_xy),) * 2)).tocoo()
    in_tree = {tuple(sorted(p)) for p in zip(tree.row.tolist(), tree.col.tolist(), strict=True)}
    tree_mask = np.array([tuple(p) in in_tree for p in pairs.tolist()])
    loops = ~tree_mask & (length < 2_600.0) & (rng.random(len(pairs)) < 0.30)
    links = pairs[tree_mask | loops]
    _check_connected(len(node_xy), np.vstack([links, grid_edges]))
    return links


def _check_connected(n: int, edges: IntArray) -> None:
    count, _ = connected_components(coo_array((np.ones(len(edges)), edges.T), shape=(n, n)), directed=False)
    if count != 1:
        raise RuntimeError(f"the generated road network falls into {count} pieces")


def _county_roads(node_xy: FloatArray, edges: IntArray, seats: IntArray) -> npt.NDArray[np.bool_]:
    """Edges on the shortest paths between neighbouring seats (Delaunay of the seats)."""
    length = np.linalg.norm(node_xy[edges[:, 0]] - node_xy[edges[:, 1]], axis=1)
    graph = coo_array((length, edges.T), shape=(len(node_xy),) * 2).tocsr()
    _, previous = dijkstra(graph, directed=False, indices=seats, return_predecessors=True)
    tri = Delaunay(node_xy[seats])
    pairs = np.unique(np.sort(np.vstack([tri.simplices[:, [0, 1]], tri.simplices[:, [1, 2]],
                                         tri.simplices[:, [0, 2]]]), axis=1), axis=0)
    on_path: set[tuple[int, int]] = set()
    for a, b in pairs.tolist():
        node = int(seats[b])
        while node != seats[a]:
            before = int(previous[a, node])
            on_path.add((min(before, node), max(before, node)))
            node = before
    return np.array([(min(u, v), max(u, v)) in on_path for u, v in edges.tolist()])


def _nearest(xy: FloatArray, point: FloatArray) -> int:
    return int(np.argmin(np.linalg.norm(xy - point, axis=1)))


def _wiggled(node_xy: FloatArray, links: IntArray, rng: np.random.Generator) -> npt.NDArray[np.object_]:
    """Each link as a gently bent line with a vertex every ~250 m; end vertices exactly the nodes."""
    a, b = node_xy[links[:, 0]], node_xy[links[:, 1]]
    length = np.linalg.norm(b - a, axis=1)
    pieces = np.maximum(1, np.ceil(length / 250.0)).astype(np.int64)
    counts = pieces + 1
    link = np.repeat(np.arange(len(links)), counts)
    t = (np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)) / np.repeat(pieces, counts)
    normal = (b - a)[:, ::-1] * np.array([-1.0, 1.0]) / length[:, None]
    bend = np.repeat(rng.normal(0.0, 0.05, len(links)) * length, counts) * np.sin(np.pi * t)
    offset = bend + rng.normal(0.0, 8.0, len(t)) * ((t > 0) & (t < 1))
    xy = a[link] + (b - a)[link] * t[:, None] + normal[link] * offset[:, None]
    xy[t == 0], xy[t == 1] = a, b
    return shapely.linestrings(xy, indices=link)


def _wiggled_path(xy: FloatArray, rng: np.random.Generator) -> shapely.LineString:
    parts = _wiggled(xy, np.column_stack([np.arange(len(xy) - 1), np.arange(1, len(xy))]), rng)
    return shapely.line_merge(shapely.union_all(parts))


def _lanes(village_xy: FloatArray, rng: np.random.Generator) -> tuple[FloatArray, npt.NDArray[np.object_]]:
    """1-3 straight lanes of 120-320 m from each village point: ends ``[village, lane, xy]`` and lines."""
    n = len(village_xy)
    count = rng.integers(1, 4, n)
    angle = rng.uniform(0.0, 2.0 * np.pi, (n, 3))
    length = rng.uniform(120.0, 320.0, (n, 3))
    ends = np.round(village_xy[:, None, :] + length[..., None] * np.stack([np.cos(angle), np.sin(angle)], -1), 2)
    ends[np.arange(3)[None, :] >= count[:, None]] = np.nan
    has = ~np.isnan(ends[..., 0])
    starts = np.broadcast_to(village_xy[:, None, :], ends.shape)[has]
    return ends, shapely.linestrings(np.stack([starts, ends[has]], axis=1))


# ---------------------------------------------------------------- sites

def candidate_sites(units: pd.DataFrame, unit_xy: FloatArray, lane_ends: FloatArray, seat_xy: dict[str, FloatArray],
                    cells: dict[str, shapely.Geometry], town: shapely.Polygon,
                    rng: np.random.Generator) -> gpd.GeoDataFrame:
    """Candidate and existing sites near villages, communities, seats and in the county town."""
    rural = units["kind"].eq("rural").to_numpy()
    names = dict(zip(units["township_code"], units["township"], strict=False))
    frames = [_village_sites(units[rural], unit_xy[rural], lane_ends[rural], rng),
              _community_sites(units[~rural], unit_xy[~rural], rng),
              _seat_sites(seat_xy, names, rng), _county_sites(town, cells, names, rng)]
    sites = pd.concat(frames, ignore_index=True)
    sites["kind_zh"] = sites["kind"].map({k: v[0] for k, v in SITE_KINDS.items()})
    sites["allowed"] = sites["kind"].map({k: v[2] for k, v in SITE_KINDS.items()})
    extra = sites["kind"].map({k: v[3] for k, v in SITE_KINDS.items()})
    sites["allowed_all"] = (sites["allowed"] + "," + extra).str.strip(",")
    sites["existing"] = _existing(sites, rng)
    sites = pd.concat([sites, _site_costs(sites, rng)], axis=1)
    sites["zone"] = sites["township"]
    columns = ["id", "name", "kind", "kind_zh", "unit_code", "unit_name", "township_code", "township", "zone",
               "allowed", "allowed_all", "existing", *[f"cost_{t}" for t in TYPES]]
    xy = np.round(np.column_stack([sites.pop("x"), sites.pop("y")]), 2)
    return gpd.GeoDataFrame(sites[columns], geometry=shapely.points(xy), crs=CRS)


def _offset(xy: FloatArray, low: float, high: float, rng: np.random.Generator) -> FloatArray:
    angle = rng.uniform(0.0, 2.0 * np.pi, len(xy))
    return xy + rng.uniform(low, high, len(xy))[:, None] * np.column_stack([np.cos(angle), np.sin(angle)])


def _site_rows(units: pd.DataFrame, xy: FloatArray, kind: str, suffix: str, name: str) -> pd.DataFrame:
    short = _short_name(units["name"])
    return pd.DataFrame({"id": units["id"].to_numpy() + suffix, "name": (short + name).to_numpy(), "kind": kind,
                         "unit_code": units["id"].to_numpy(), "unit_name": units["name"].to_numpy(),
                         "township_code": units["township_code"].to_numpy(),
                         "township": units["township"].to_numpy(), "x": xy[:, 0], "y": xy[:, 1]})


def _short_name(names: pd.Series) -> pd.Series:
    return names.str.replace("村民委员会", "村").str.replace("社区居民委员会", "社区").str.replace("居民委员会", "社区")


def _village_sites(units: pd.DataFrame, xy: FloatArray, lane_ends: FloatArray,
                   rng: np.random.Generator) -> pd.DataFrame:
    """Every village: its committee room; some: an idle school, a clinic, a new-build parcel."""
    lane = lane_ends[:, 0]
    towards = (lane - xy) / np.linalg.norm(lane - xy, axis=1)[:, None]
    room = xy + towards * rng.uniform(30.0, 90.0, len(xy))[:, None] + rng.normal(0.0, 15.0, xy.shape)
    school = lane + rng.normal(0.0, 30.0, xy.shape)
    clinic = _offset(xy, 60.0, 200.0, rng)
    parcel = _offset(xy, 150.0, 300.0, rng)
    draw = rng.random((len(xy), 3))
    parts = [_site_rows(units, room, "village_room", "-room", "村委会用房")]
    for k, (where, kind, suffix, name, p) in enumerate((
            (school, "idle_school", "-school", "闲置校舍", 0.18), (clinic, "clinic", "-clinic", "卫生室", 0.25),
            (parcel, "new_parcel", "-parcel", "新建用地", 0.12))):
        pick = draw[:, k] < p
        parts.append(_site_rows(units[pick], where[pick], kind, suffix, name))
    return pd.concat(parts, ignore_index=True)


def _community_sites(units: pd.DataFrame, xy: FloatArray, rng: np.random.Generator) -> pd.DataFrame:
    """Every urban community: its service room; half an idle building; some a new-build parcel."""
    room, idle, parcel = _offset(xy, 30.0, 120.0, rng), _offset(xy, 100.0, 300.0, rng), _offset(xy, 150.0, 300.0, rng)
    draw = rng.random((len(xy), 2))
    return pd.concat([_site_rows(units, room, "community_room", "-room", "服务用房"),
                      _site_rows(units[draw[:, 0] < 0.5], idle[draw[:, 0] < 0.5], "idle_building", "-building",
                                 "闲置用房"),
                      _site_rows(units[draw[:, 1] < 0.3], parcel[draw[:, 1] < 0.3], "urban_parcel", "-parcel",
                                 "新建用地")], ignore_index=True)


def _seat_sites(seat_xy: dict[str, FloatArray], names: dict[str, str], rng: np.random.Generator) -> pd.DataFrame:
    """Towns: 敬老院, 卫生院 and an idle government building; streets: an idle office and a parcel."""
    codes = list(seat_xy)
    seats = pd.DataFrame({"id": codes, "name": [names[c] for c in codes], "township_code": codes,
                          "township": [names[c] for c in codes]})
    xy = np.array([seat_xy[c] for c in codes])
    town = ~seats["id"].isin(STREETS).to_numpy()
    parts = [_site_rows(seats[town], _offset(xy[town], 300.0, 700.0, rng), "nursing_home", "-home", "敬老院"),
             _site_rows(seats[town], _offset(xy[town], 100.0, 400.0, rng), "health_centre", "-hospital", "卫生院"),
             _site_rows(seats[town], _offset(xy[town], 50.0, 200.0, rng), "office", "-office", "政府闲置用房"),
             _site_rows(seats[~town], _offset(xy[~town], 50.0, 200.0, rng), "office", "-office", "办事处闲置用房"),
             _site_rows(seats[~town], _offset(xy[~town], 200.0, 500.0, rng), "urban_parcel", "-parcel", "新建用地")]
    return pd.concat(parts, ignore_index=True)


def _county_sites(town: shapely.Polygon, cells: dict[str, shapely.Geometry], names: dict[str, str],
                  rng: np.random.Generator) -> pd.DataFrame:
    """Three county-level parcels in the county town (for institutions), in the street they fall in."""
    xy = _offset(np.repeat(np.array(town.centroid.coords), 3, axis=0), 800.0, 1_800.0, rng)
    inside = [next(code for code in STREETS if cells[code].contains(shapely.Point(p))) for p in xy]
    county = pd.DataFrame({"id": "370124", "name": "平阴县城", "township_code": inside,
                           "township": [names[c] for c in inside]})
    rows = _site_rows(county, xy, "county_parcel", "", "新建用地")
    rows["id"] = ["370124-parcel-1", "370124-parcel-2", "370124-parcel-3"]
    rows["name"] = ["平阴县城新建用地（一）", "平阴县城新建用地（二）", "平阴县城新建用地（三）"]
    return rows


def _existing(sites: pd.DataFrame, rng: np.random.Generator) -> pd.Series:
    """Open today: a quarter of village rooms (幸福院, some with a canteen), a third of community
    rooms (stations, some with a meal point), and the 东阿镇敬老院 centre (plan 001's pilot)."""
    draw = rng.random((len(sites), 2))
    village, community = sites["kind"].eq("village_room"), sites["kind"].eq("community_room")
    home, station = village & (draw[:, 0] < 0.25), community & (draw[:, 0] < 0.35)
    existing = np.where(home, "happiness_home", np.where(station, "station", ""))
    existing = np.where((home | station) & (draw[:, 1] < 0.35), np.char.add(existing.astype(str), ",meal_point"),
                        existing)
    existing = np.where(sites["name"].eq("东阿镇敬老院"), "centre", existing)
    return pd.Series(existing, index=sites.index)


def _site_costs(sites: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Capital cost per allowed type: new-build cost x the kind's factor x U(0.85, 1.15), to 1,000 yuan."""
    factor = sites["kind"].map({k: v[1] for k, v in SITE_KINDS.items()}).to_numpy()
    noise = rng.uniform(0.85, 1.15, (len(sites), len(TYPES)))
    cost = np.round(NEW_BUILD_CNY[None, :] * factor[:, None] * noise, -3)
    allowed = np.array([[t in a.split(",") for t in TYPES] for a in sites["allowed_all"]])
    return pd.DataFrame(np.where(allowed, cost, np.nan), columns=[f"cost_{t}" for t in TYPES], index=sites.index)


def institutions(sites: gpd.GeoDataFrame, rng: np.random.Generator) -> gpd.GeoDataFrame:
    """SYNTHETIC existing institutions with beds: every 敬老院 and `CLINICS_WITH_BEDS` 卫生院.

    `existing_all` is `existing` plus `institution` at those sites (as `allowed_all` extends
    `allowed`); `beds_nursing`, `beds_ordinary`, `beds_dementia` their beds (0 elsewhere). The
    nursing share is drawn below the plans' 60-78% so that converting beds matters; no
    dementia beds yet.
    """
    homes = np.flatnonzero(sites["kind"].eq("nursing_home").to_numpy())
    clinics = np.flatnonzero(sites["kind"].eq("health_centre").to_numpy())
    clinics = np.sort(rng.choice(clinics, CLINICS_WITH_BEDS, replace=False))
    total = np.zeros(len(sites), dtype=np.int64)
    nursing = np.zeros(len(sites), dtype=np.int64)
    for rows, (low, high), (share_low, share_high) in ((homes, HOME_BEDS, HOME_NURSING_SHARE),
                                                       (clinics, CLINIC_BEDS, CLINIC_NURSING_SHARE)):
        total[rows] = np.round(rng.uniform(low, high, len(rows)), -1).astype(np.int64)
        nursing[rows] = np.round(total[rows] * rng.uniform(share_low, share_high, len(rows))).astype(np.int64)
    has = total > 0
    existing_all = np.where(has, (sites["existing"] + ",institution").str.strip(","), sites["existing"])
    out = sites.assign(existing_all=existing_all, beds_nursing=nursing, beds_ordinary=total - nursing,
                       beds_dementia=np.zeros(len(sites), dtype=np.int64))
    columns = [c for c in out.columns if c != "geometry"]
    columns.insert(columns.index("existing") + 1, columns.pop(columns.index("existing_all")))
    return out[[*columns, "geometry"]]


# ---------------------------------------------------------------- layers

def _points(units: pd.DataFrame, xy: FloatArray) -> gpd.GeoDataFrame:
    frame = units.assign(zone=units["township"])
    columns = ["id", "name", "township_code", "township", "zone", "kind", "pop", "pop60", "pop80", "hh"]
    return gpd.GeoDataFrame(frame[columns], geometry=shapely.points(xy), crs=CRS)


def township_layer(townships: pd.DataFrame, cells: dict[str, shapely.Geometry],
                   units: pd.DataFrame) -> gpd.GeoDataFrame:
    """Township cells with their official code and name and the totals of their units."""
    totals = units.groupby("township_code")[["pop", "pop60", "pop80", "hh"]].sum()
    counts = units.groupby("township_code")["kind"].agg(units="size", urban_units=lambda k: int((k == "urban").sum()))
    frame = townships.set_index("code").join(counts).join(totals).reset_index()
    frame["kind"] = np.where(frame["name"].str.endswith("街道"), "街道", "镇")
    geometry = [shapely.multipolygons(shapely.get_parts(cells[c])) for c in frame["code"]]
    frame["area_km2"] = np.round([g.area / 1e6 for g in geometry], 2)
    frame["zone"] = frame["name"]
    return gpd.GeoDataFrame(frame, geometry=shapely.set_precision(geometry, 0.01), crs=CRS)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT)
