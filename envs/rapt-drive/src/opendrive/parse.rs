//! OpenDRIVE XML → the plain records the importer builds from. Only what driving needs is
//! read: reference lines, lane sections, widths and links, speed limits, junction
//! connections, signals, signal references and controllers. Everything else (elevation,
//! objects, road marks, user data) is skipped. Every number is checked to be finite; each
//! problem names the element (`road 12, lane -1`) it was found in.

use roxmltree::Node;

use super::OpenDriveError;

/// Which end of a road a link touches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Contact {
    /// s = 0.
    Start,
    /// s = length.
    End,
}

/// What a road's predecessor or successor is.
#[derive(Debug, Clone, PartialEq)]
pub enum RoadLink {
    /// Another road, touching it at `contact`.
    Road {
        /// Its id.
        id: String,
        /// The end of that road which touches this one.
        contact: Contact,
    },
    /// A junction (its connections say where lanes go).
    Junction(String),
}

/// `a + b·ds + c·ds² + d·ds³` from `s` on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cubic {
    /// Where it starts (road s or section-relative sOffset), m.
    pub s: f64,
    /// Coefficients.
    pub a: f64,
    /// Linear.
    pub b: f64,
    /// Quadratic.
    pub c: f64,
    /// Cubic.
    pub d: f64,
}

impl Cubic {
    /// Value at `ds` m past its start.
    pub fn at(&self, ds: f64) -> f64 {
        self.a + ds * (self.b + ds * (self.c + ds * self.d))
    }
}

/// The value of a piecewise cubic (records sorted by `s`) at `s` (0 before the first).
pub fn piecewise(records: &[Cubic], s: f64) -> f64 {
    let k = records.partition_point(|r| r.s <= s + 1e-9);
    if k == 0 {
        return records.first().map_or(0.0, |r| r.at(0.0));
    }
    let r = &records[k - 1];
    r.at(s - r.s)
}

/// The shape of one piece of a reference line.
#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    /// Straight.
    Line,
    /// Constant curvature, 1/m (positive: left).
    Arc(f64),
    /// Curvature changing linearly from `.0` to `.1` (a clothoid), 1/m.
    Spiral(f64, f64),
    /// `v = a + b·u + c·u² + d·u³` in the piece's local frame.
    Poly3([f64; 4]),
    /// `u(p)`, `v(p)` cubic in p; `normalized`: p runs over [0, 1], otherwise over
    /// [0, length].
    ParamPoly3 {
        /// aU, bU, cU, dU.
        u: [f64; 4],
        /// aV, bV, cV, dV.
        v: [f64; 4],
        /// `pRange="normalized"`.
        normalized: bool,
    },
}

/// One `<geometry>` of a `<planView>`.
#[derive(Debug, Clone, PartialEq)]
pub struct Geometry {
    /// Start, road s, m.
    pub s: f64,
    /// Start point, m.
    pub x: f64,
    /// Start point, m.
    pub y: f64,
    /// Start heading, rad.
    pub hdg: f64,
    /// Length along the curve, m.
    pub length: f64,
    /// Shape.
    pub shape: Shape,
}

/// One `<lane>` of a lane section (the centre lane 0 is not kept).
#[derive(Debug, Clone, PartialEq)]
pub struct LaneDef {
    /// Lane id: negative right of the reference line, positive left.
    pub id: i32,
    /// `type` (driving, sidewalk, shoulder, …).
    pub kind: String,
    /// The lane it continues from, in the previous section or road.
    pub predecessor: Option<i32>,
    /// The lane it continues into.
    pub successor: Option<i32>,
    /// Width records (`s` = sOffset from the section start).
    pub widths: Vec<Cubic>,
    /// Lane speed limit, m/s.
    pub speed: Option<f64>,
}

/// One `<laneSection>`.
#[derive(Debug, Clone, PartialEq)]
pub struct SectionDef {
    /// Start, road s, m.
    pub s: f64,
    /// Its lanes, left and right (not the centre lane).
    pub lanes: Vec<LaneDef>,
}

/// Lanes a signal applies to (`<validity fromLane toLane>`), inclusive.
pub type Validity = (i32, i32);

/// A `<signal>`.
#[derive(Debug, Clone, PartialEq)]
pub struct SignalDef {
    /// Id.
    pub id: String,
    /// Position along the road, m.
    pub s: f64,
    /// `dynamic="yes"`.
    pub dynamic: bool,
    /// `type` (1000001: a traffic light).
    pub kind: String,
    /// `+`, `-` or `none`.
    pub orientation: String,
    /// The lanes it covers.
    pub validity: Vec<Validity>,
}

/// A `<signalReference>`: a signal placed elsewhere applying to this road.
#[derive(Debug, Clone, PartialEq)]
pub struct SignalRef {
    /// The signal's id.
    pub id: String,
    /// `+`, `-` or `none`.
    pub orientation: String,
    /// The lanes of this road it covers.
    pub validity: Vec<Validity>,
}

/// A `<road>`.
#[derive(Debug, Clone, PartialEq)]
pub struct RoadDef {
    /// Id.
    pub id: String,
    /// Length, m.
    pub length: f64,
    /// The junction it belongs to (a connecting road), if any.
    pub junction: Option<String>,
    /// Left-hand traffic (`rule="LHT"`).
    pub left_hand: bool,
    /// What comes before s = 0.
    pub predecessor: Option<RoadLink>,
    /// What comes after s = length.
    pub successor: Option<RoadLink>,
    /// Speed limits from `<type><speed>`, as (s, m/s).
    pub speeds: Vec<(f64, f64)>,
    /// The reference line.
    pub geometries: Vec<Geometry>,
    /// `<laneOffset>` records.
    pub lane_offsets: Vec<Cubic>,
    /// Lane sections in order.
    pub sections: Vec<SectionDef>,
    /// Signals placed on it.
    pub signals: Vec<SignalDef>,
    /// References to signals placed elsewhere.
    pub signal_refs: Vec<SignalRef>,
}

/// A junction `<connection>`.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectionDef {
    /// Id.
    pub id: String,
    /// The road coming in.
    pub incoming: String,
    /// The connecting road inside the junction.
    pub connecting: String,
    /// The end of the connecting road that touches the incoming road.
    pub contact: Contact,
    /// (incoming lane, connecting lane) pairs.
    pub lane_links: Vec<(i32, i32)>,
}

/// A `<junction>`.
#[derive(Debug, Clone, PartialEq)]
pub struct JunctionDef {
    /// Id.
    pub id: String,
    /// Its connections.
    pub connections: Vec<ConnectionDef>,
    /// Its signal controllers as (controller id, sequence).
    pub controllers: Vec<(String, u32)>,
}

/// A top-level `<controller>`: signals switched together.
#[derive(Debug, Clone, PartialEq)]
pub struct ControllerDef {
    /// Id.
    pub id: String,
    /// The signals it switches.
    pub signals: Vec<String>,
}

/// A whole file.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    /// Roads in file order.
    pub roads: Vec<RoadDef>,
    /// Junctions in file order.
    pub junctions: Vec<JunctionDef>,
    /// Controllers in file order.
    pub controllers: Vec<ControllerDef>,
}

/// Errors of one file.
pub(super) struct Reader<'a> {
    pub file: &'a str,
}

impl Reader<'_> {
    pub fn error(&self, element: impl Into<String>, message: impl Into<String>) -> OpenDriveError {
        OpenDriveError {
            file: self.file.to_string(),
            element: element.into(),
            message: message.into(),
        }
    }

    fn attr<'n>(
        &self,
        node: Node<'n, '_>,
        name: &str,
        at: &str,
    ) -> Result<&'n str, OpenDriveError> {
        node.attribute(name).ok_or_else(|| {
            self.error(
                at,
                format!("<{}> has no `{name}` attribute", node.tag_name().name()),
            )
        })
    }

    fn number(&self, node: Node, name: &str, at: &str) -> Result<f64, OpenDriveError> {
        let text = self.attr(node, name, at)?;
        match text.trim().parse::<f64>() {
            Ok(x) if x.is_finite() => Ok(x),
            _ => Err(self.error(
                at,
                format!(
                    "<{}> {name}=\"{text}\" is not a finite number",
                    node.tag_name().name()
                ),
            )),
        }
    }

    fn number_or(
        &self,
        node: Node,
        name: &str,
        at: &str,
        default: f64,
    ) -> Result<f64, OpenDriveError> {
        if node.attribute(name).is_some() {
            self.number(node, name, at)
        } else {
            Ok(default)
        }
    }

    fn integer(&self, node: Node, name: &str, at: &str) -> Result<i32, OpenDriveError> {
        let text = self.attr(node, name, at)?;
        text.trim().parse::<i32>().map_err(|_| {
            self.error(
                at,
                format!(
                    "<{}> {name}=\"{text}\" is not an integer",
                    node.tag_name().name()
                ),
            )
        })
    }

    fn cubic(&self, node: Node, s_name: &str, at: &str) -> Result<Cubic, OpenDriveError> {
        Ok(Cubic {
            s: self.number(node, s_name, at)?,
            a: self.number(node, "a", at)?,
            b: self.number_or(node, "b", at, 0.0)?,
            c: self.number_or(node, "c", at, 0.0)?,
            d: self.number_or(node, "d", at, 0.0)?,
        })
    }

    fn contact(&self, node: Node, at: &str) -> Result<Contact, OpenDriveError> {
        match self.attr(node, "contactPoint", at)? {
            "start" => Ok(Contact::Start),
            "end" => Ok(Contact::End),
            other => Err(self.error(
                at,
                format!("contactPoint=\"{other}\" must be \"start\" or \"end\""),
            )),
        }
    }

    fn validity(&self, node: Node, at: &str) -> Result<Vec<Validity>, OpenDriveError> {
        children(node, "validity")
            .map(|v| {
                Ok((
                    self.integer(v, "fromLane", at)?,
                    self.integer(v, "toLane", at)?,
                ))
            })
            .collect()
    }
}

fn children<'a, 'i>(node: Node<'a, 'i>, tag: &'static str) -> impl Iterator<Item = Node<'a, 'i>> {
    node.children()
        .filter(move |c| c.is_element() && c.tag_name().name() == tag)
}

fn child<'a, 'i>(node: Node<'a, 'i>, tag: &'static str) -> Option<Node<'a, 'i>> {
    children(node, tag).next()
}

/// Speed in m/s from a value and an OpenDRIVE unit (`m/s` when absent).
fn speed_ms(r: &Reader, value: f64, unit: Option<&str>, at: &str) -> Result<f64, OpenDriveError> {
    let factor = match unit.unwrap_or("m/s") {
        "m/s" => 1.0,
        "km/h" => 1.0 / 3.6,
        "mph" => 0.447_04,
        other => {
            return Err(r.error(
                at,
                format!("speed unit \"{other}\" is not one of m/s, km/h, mph"),
            ));
        }
    };
    Ok(value * factor)
}

/// Parse the text of an OpenDRIVE file named `file` (for messages).
pub fn parse(file: &str, text: &str) -> Result<Document, OpenDriveError> {
    let r = Reader { file };
    let doc = roxmltree::Document::parse(text)
        .map_err(|e| r.error("XML", format!("not well-formed: {e}")))?;
    let root = doc.root_element();
    if root.tag_name().name() != "OpenDRIVE" {
        return Err(r.error(
            "XML",
            format!(
                "the root element is <{}>, not <OpenDRIVE>",
                root.tag_name().name()
            ),
        ));
    }
    let mut roads = Vec::new();
    let mut junctions = Vec::new();
    let mut controllers = Vec::new();
    for node in root.children().filter(|c| c.is_element()) {
        match node.tag_name().name() {
            "road" => roads.push(parse_road(&r, node)?),
            "junction" => junctions.push(parse_junction(&r, node)?),
            "controller" => {
                let id = r.attr(node, "id", "controller")?.to_string();
                let at = format!("controller {id}");
                let signals = children(node, "control")
                    .map(|c| r.attr(c, "signalId", &at).map(str::to_string))
                    .collect::<Result<_, _>>()?;
                controllers.push(ControllerDef { id, signals });
            }
            _ => {}
        }
    }
    if roads.is_empty() {
        return Err(r.error("OpenDRIVE", "the file has no <road>"));
    }
    Ok(Document {
        roads,
        junctions,
        controllers,
    })
}

fn parse_link(r: &Reader, node: Node, at: &str) -> Result<RoadLink, OpenDriveError> {
    let id = r.attr(node, "elementId", at)?.to_string();
    match node.attribute("elementType").unwrap_or("road") {
        "road" => Ok(RoadLink::Road {
            id,
            contact: r.contact(node, at)?,
        }),
        "junction" => Ok(RoadLink::Junction(id)),
        other => Err(r.error(
            at,
            format!("link elementType=\"{other}\" must be \"road\" or \"junction\""),
        )),
    }
}

fn parse_road(r: &Reader, node: Node) -> Result<RoadDef, OpenDriveError> {
    let id = r.attr(node, "id", "road")?.to_string();
    let at = format!("road {id}");
    let length = r.number(node, "length", &at)?;
    if length <= 0.0 {
        return Err(r.error(&at, format!("length = {length} m must be positive")));
    }
    let junction = node
        .attribute("junction")
        .map(str::trim)
        .filter(|j| *j != "-1" && !j.is_empty())
        .map(str::to_string);
    let left_hand = node.attribute("rule") == Some("LHT");
    let (mut predecessor, mut successor) = (None, None);
    if let Some(link) = child(node, "link") {
        if let Some(p) = child(link, "predecessor") {
            predecessor = Some(parse_link(r, p, &format!("{at}, predecessor"))?);
        }
        if let Some(s) = child(link, "successor") {
            successor = Some(parse_link(r, s, &format!("{at}, successor"))?);
        }
    }
    let mut speeds = Vec::new();
    for t in children(node, "type") {
        if let Some(speed) = child(t, "speed") {
            let s = r.number(t, "s", &at)?;
            // "no limit" / "undefined" are allowed by the standard: no limit here.
            if let Ok(max) = r.number(speed, "max", &at) {
                speeds.push((s, speed_ms(r, max, speed.attribute("unit"), &at)?));
            }
        }
    }
    let plan = child(node, "planView").ok_or_else(|| r.error(&at, "has no <planView>"))?;
    let mut geometries = Vec::new();
    for g in children(plan, "geometry") {
        geometries.push(parse_geometry(r, g, &at)?);
    }
    if geometries.is_empty() {
        return Err(r.error(&at, "its <planView> has no <geometry>"));
    }
    let lanes = child(node, "lanes").ok_or_else(|| r.error(&at, "has no <lanes>"))?;
    let lane_offsets = children(lanes, "laneOffset")
        .map(|o| r.cubic(o, "s", &format!("{at}, laneOffset")))
        .collect::<Result<Vec<_>, _>>()?;
    let mut sections = Vec::new();
    for (k, sec) in children(lanes, "laneSection").enumerate() {
        sections.push(parse_section(r, sec, &format!("{at}, laneSection {k}"))?);
    }
    if sections.is_empty() {
        return Err(r.error(&at, "has no <laneSection>"));
    }
    let (mut signals, mut signal_refs) = (Vec::new(), Vec::new());
    if let Some(sig) = child(node, "signals") {
        for s in children(sig, "signal") {
            let id = r.attr(s, "id", &at)?.to_string();
            let sat = format!("signal {id} (road {})", node.attribute("id").unwrap_or("?"));
            signals.push(SignalDef {
                s: r.number(s, "s", &sat)?,
                dynamic: s.attribute("dynamic") == Some("yes"),
                kind: s.attribute("type").unwrap_or("").to_string(),
                orientation: s.attribute("orientation").unwrap_or("none").to_string(),
                validity: r.validity(s, &sat)?,
                id,
            });
        }
        for s in children(sig, "signalReference") {
            let id = r.attr(s, "id", &at)?.to_string();
            signal_refs.push(SignalRef {
                orientation: s.attribute("orientation").unwrap_or("none").to_string(),
                validity: r.validity(s, &format!("{at}, signalReference {id}"))?,
                id,
            });
        }
    }
    Ok(RoadDef {
        id,
        length,
        junction,
        left_hand,
        predecessor,
        successor,
        speeds,
        geometries,
        lane_offsets,
        sections,
        signals,
        signal_refs,
    })
}

fn parse_geometry(r: &Reader, g: Node, road: &str) -> Result<Geometry, OpenDriveError> {
    let s = r.number(g, "s", road)?;
    let at = format!("{road}, geometry at s = {s}");
    let length = r.number(g, "length", &at)?;
    if length < 0.0 {
        return Err(r.error(&at, format!("length = {length} m is negative")));
    }
    let shape_node = g
        .children()
        .find(|c| c.is_element())
        .ok_or_else(|| r.error(&at, "has no shape (<line>, <arc>, <spiral>, …)"))?;
    let coeffs = |names: [&str; 4]| -> Result<[f64; 4], OpenDriveError> {
        let mut out = [0.0; 4];
        for (o, n) in out.iter_mut().zip(names) {
            *o = r.number(shape_node, n, &at)?;
        }
        Ok(out)
    };
    let shape = match shape_node.tag_name().name() {
        "line" => Shape::Line,
        "arc" => Shape::Arc(r.number(shape_node, "curvature", &at)?),
        "spiral" => Shape::Spiral(
            r.number(shape_node, "curvStart", &at)?,
            r.number(shape_node, "curvEnd", &at)?,
        ),
        "poly3" => Shape::Poly3(coeffs(["a", "b", "c", "d"])?),
        "paramPoly3" => {
            Shape::ParamPoly3 {
                u: coeffs(["aU", "bU", "cU", "dU"])?,
                v: coeffs(["aV", "bV", "cV", "dV"])?,
                normalized: match shape_node.attribute("pRange").unwrap_or("normalized") {
                    "normalized" => true,
                    "arcLength" => false,
                    other => {
                        return Err(r.error(
                        &at,
                        format!("paramPoly3 pRange=\"{other}\" must be \"arcLength\" or \"normalized\""),
                    ));
                    }
                },
            }
        }
        other => {
            return Err(r.error(
                &at,
                format!(
                    "unknown geometry <{other}> (supported: line, arc, spiral, poly3, paramPoly3)"
                ),
            ));
        }
    };
    Ok(Geometry {
        s,
        x: r.number(g, "x", &at)?,
        y: r.number(g, "y", &at)?,
        hdg: r.number(g, "hdg", &at)?,
        length,
        shape,
    })
}

fn parse_section(r: &Reader, sec: Node, at: &str) -> Result<SectionDef, OpenDriveError> {
    let s = r.number(sec, "s", at)?;
    let mut lanes = Vec::new();
    for side in ["left", "right"] {
        let Some(side_node) = child(sec, side) else {
            continue;
        };
        for lane in children(side_node, "lane") {
            let id = r.integer(lane, "id", at)?;
            let lat = format!("{at}, lane {id}");
            if id == 0 || (side == "left") != (id > 0) {
                return Err(r.error(
                    &lat,
                    format!("lane id {id} cannot be in <{side}> (left lanes are positive, right negative)"),
                ));
            }
            if child(lane, "border").is_some() && child(lane, "width").is_none() {
                return Err(r.error(&lat, "gives <border> instead of <width>: not supported"));
            }
            let mut widths = children(lane, "width")
                .map(|w| r.cubic(w, "sOffset", &lat))
                .collect::<Result<Vec<_>, _>>()?;
            widths.sort_by(|a, b| a.s.total_cmp(&b.s));
            let (mut predecessor, mut successor) = (None, None);
            if let Some(link) = child(lane, "link") {
                if let Some(p) = child(link, "predecessor") {
                    predecessor = Some(r.integer(p, "id", &lat)?);
                }
                if let Some(n) = child(link, "successor") {
                    successor = Some(r.integer(n, "id", &lat)?);
                }
            }
            let speed = match child(lane, "speed") {
                Some(sp) => Some(speed_ms(
                    r,
                    r.number(sp, "max", &lat)?,
                    sp.attribute("unit"),
                    &lat,
                )?),
                None => None,
            };
            lanes.push(LaneDef {
                id,
                kind: lane.attribute("type").unwrap_or("none").to_string(),
                predecessor,
                successor,
                widths,
                speed,
            });
        }
    }
    Ok(SectionDef { s, lanes })
}

fn parse_junction(r: &Reader, node: Node) -> Result<JunctionDef, OpenDriveError> {
    let id = r.attr(node, "id", "junction")?.to_string();
    let at = format!("junction {id}");
    let mut connections = Vec::new();
    for c in children(node, "connection") {
        let cid = c.attribute("id").unwrap_or("?").to_string();
        let cat = format!("{at}, connection {cid}");
        let lane_links = children(c, "laneLink")
            .map(|l| Ok((r.integer(l, "from", &cat)?, r.integer(l, "to", &cat)?)))
            .collect::<Result<Vec<_>, OpenDriveError>>()?;
        connections.push(ConnectionDef {
            incoming: r.attr(c, "incomingRoad", &cat)?.to_string(),
            connecting: r.attr(c, "connectingRoad", &cat)?.to_string(),
            contact: r.contact(c, &cat)?,
            lane_links,
            id: cid,
        });
    }
    let controllers = children(node, "controller")
        .map(|c| {
            Ok((
                r.attr(c, "id", &at)?.to_string(),
                r.number_or(c, "sequence", &at, 0.0)? as u32,
            ))
        })
        .collect::<Result<Vec<_>, OpenDriveError>>()?;
    Ok(JunctionDef {
        id,
        connections,
        controllers,
    })
}
