//! STL meshes (binary or ASCII) as indexed triangle meshes: what URDF collision meshes are
//! written in. Vertices shared by several triangles are merged (exact matches), so a
//! renderer transforms each corner once.

/// An indexed triangle mesh, m.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TriangleMesh {
    /// Vertex positions, m.
    pub vertices: Vec<[f32; 3]>,
    /// Triangles as indices into `vertices`, counter-clockwise seen from outside.
    pub triangles: Vec<[u32; 3]>,
}

impl TriangleMesh {
    /// The mesh with every vertex multiplied component-wise by `scale`.
    pub fn scaled(mut self, scale: [f32; 3]) -> Self {
        for v in &mut self.vertices {
            *v = [v[0] * scale[0], v[1] * scale[1], v[2] * scale[2]];
        }
        self
    }

    /// A coarser copy for small images (vertex clustering): vertices in the same `cell`-m
    /// cube merge into their mean, and triangles that collapse disappear. Deterministic;
    /// the surface moves by at most about one cell.
    pub fn clustered(&self, cell: f32) -> TriangleMesh {
        let key = |v: &[f32; 3]| v.map(|x| (x / cell).floor() as i32);
        let mut cells: std::collections::BTreeMap<[i32; 3], (u32, [f32; 3], u32)> =
            std::collections::BTreeMap::new();
        for v in &self.vertices {
            let entry = cells.entry(key(v)).or_insert((0, [0.0; 3], 0));
            entry.2 += 1;
            entry.1 = [entry.1[0] + v[0], entry.1[1] + v[1], entry.1[2] + v[2]];
        }
        let mut out = TriangleMesh::default();
        for (index, (_, (slot, sum, n))) in cells.iter_mut().enumerate() {
            *slot = index as u32;
            out.vertices.push(sum.map(|x| x / *n as f32));
        }
        let mut seen = std::collections::BTreeSet::new();
        for t in &self.triangles {
            let ids = t.map(|i| cells[&key(&self.vertices[i as usize])].0);
            if ids[0] == ids[1] || ids[1] == ids[2] || ids[0] == ids[2] {
                continue;
            }
            // The same triangle from several source triangles is drawn once.
            let rotated = {
                let m = (0..3).min_by_key(|&k| ids[k]).expect("three corners");
                [ids[m], ids[(m + 1) % 3], ids[(m + 2) % 3]]
            };
            if seen.insert(rotated) {
                out.triangles.push(ids);
            }
        }
        out
    }

    fn push_triangle(&mut self, corners: [[f32; 3]; 3], index: &mut CornerIndex) {
        let ids = corners.map(|c| {
            let key = c.map(f32::to_bits);
            *index.entry(key).or_insert_with(|| {
                self.vertices.push(c);
                (self.vertices.len() - 1) as u32
            })
        });
        // Degenerate triangles (two corners merged) draw nothing and hull nothing.
        if ids[0] != ids[1] && ids[1] != ids[2] && ids[0] != ids[2] {
            self.triangles.push(ids);
        }
    }
}

type CornerIndex = std::collections::HashMap<[u32; 3], u32>;

/// Parse an STL file's bytes. Binary files are recognised by their size (84 bytes of
/// header and count, then 50 per triangle); anything else must be ASCII STL. The error
/// says what was wrong (and the line, for ASCII).
pub fn parse_stl(bytes: &[u8]) -> Result<TriangleMesh, String> {
    if bytes.len() >= 84 {
        let count = u32::from_le_bytes([bytes[80], bytes[81], bytes[82], bytes[83]]) as usize;
        if count.checked_mul(50).and_then(|n| n.checked_add(84)) == Some(bytes.len()) {
            return Ok(parse_binary(&bytes[84..], count));
        }
    }
    let text = std::str::from_utf8(bytes).map_err(|_| {
        format!(
            "neither binary STL (size {} bytes does not match its triangle count) nor ASCII STL (not UTF-8)",
            bytes.len()
        )
    })?;
    parse_ascii(text)
}

fn parse_binary(body: &[u8], count: usize) -> TriangleMesh {
    let mut mesh = TriangleMesh::default();
    let mut index = CornerIndex::new();
    let float = |b: &[u8], at: usize| f32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]);
    for record in body.chunks_exact(50).take(count) {
        // 12 bytes of normal, then three corners of 12 bytes, then 2 attribute bytes.
        let corner = |k: usize| {
            let at = 12 + 12 * k;
            [
                float(record, at),
                float(record, at + 4),
                float(record, at + 8),
            ]
        };
        mesh.push_triangle([corner(0), corner(1), corner(2)], &mut index);
    }
    mesh
}

fn parse_ascii(text: &str) -> Result<TriangleMesh, String> {
    let mut mesh = TriangleMesh::default();
    let mut index = CornerIndex::new();
    let mut corners = Vec::with_capacity(3);
    let mut saw_solid = false;
    for (n, line) in text.lines().enumerate() {
        let mut words = line.split_whitespace();
        match words.next() {
            Some("solid") => saw_solid = true,
            Some("vertex") => {
                let xyz: Vec<f32> = words
                    .map(str::parse)
                    .collect::<Result<_, _>>()
                    .map_err(|e| format!("line {}: bad vertex coordinate ({e})", n + 1))?;
                let [x, y, z] = xyz[..] else {
                    return Err(format!(
                        "line {}: a vertex needs 3 coordinates, got {}",
                        n + 1,
                        xyz.len()
                    ));
                };
                corners.push([x, y, z]);
            }
            Some("endloop") => {
                let [a, b, c] = corners[..] else {
                    return Err(format!(
                        "line {}: a facet needs 3 vertices, got {}",
                        n + 1,
                        corners.len()
                    ));
                };
                mesh.push_triangle([a, b, c], &mut index);
                corners.clear();
            }
            _ => {}
        }
    }
    if !saw_solid {
        return Err("not an STL file: no `solid` header and not binary STL".into());
    }
    Ok(mesh)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn binary(triangles: &[[[f32; 3]; 3]]) -> Vec<u8> {
        let mut b = vec![0u8; 80];
        b.extend_from_slice(&(triangles.len() as u32).to_le_bytes());
        for t in triangles {
            b.extend_from_slice(&[0u8; 12]);
            for c in t {
                for x in c {
                    b.extend_from_slice(&x.to_le_bytes());
                }
            }
            b.extend_from_slice(&[0, 0]);
        }
        b
    }

    const QUAD: [[[f32; 3]; 3]; 2] = [
        [[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [1.0, 1.0, 0.0]],
        [[0.0, 0.0, 0.0], [1.0, 1.0, 0.0], [0.0, 1.0, 0.0]],
    ];

    #[test]
    fn binary_stl_merges_shared_corners() {
        let mesh = parse_stl(&binary(&QUAD)).unwrap();
        assert_eq!(mesh.vertices.len(), 4);
        assert_eq!(mesh.triangles, vec![[0, 1, 2], [0, 2, 3]]);
    }

    #[test]
    fn clustering_merges_close_vertices_and_drops_collapsed_triangles() {
        let mut mesh = parse_stl(&binary(&QUAD)).unwrap();
        // A sliver beside the quad, narrower than a cell.
        mesh.vertices.push([1.001, 0.0, 0.0]);
        mesh.triangles.push([1, 4, 2]);
        let coarse = mesh.clustered(0.5);
        assert_eq!(coarse.vertices.len(), 4);
        assert_eq!(coarse.triangles.len(), 2, "{coarse:?}");
        assert_eq!(mesh.clustered(0.5), coarse, "deterministic");
    }

    #[test]
    fn ascii_stl_reads_the_same_mesh() {
        let mut text = String::from("solid quad\n");
        for t in QUAD {
            text.push_str("facet normal 0 0 1\nouter loop\n");
            for c in t {
                text.push_str(&format!("vertex {} {} {}\n", c[0], c[1], c[2]));
            }
            text.push_str("endloop\nendfacet\n");
        }
        text.push_str("endsolid quad\n");
        assert_eq!(
            parse_stl(text.as_bytes()).unwrap(),
            parse_stl(&binary(&QUAD)).unwrap()
        );
    }

    #[test]
    fn truncated_or_foreign_bytes_are_errors_that_say_why() {
        let mut cut = binary(&QUAD);
        cut.truncate(120);
        assert!(parse_stl(&cut).unwrap_err().contains("binary STL"));
        let err = parse_stl(b"solid x\nvertex 1 2\nendloop\n").unwrap_err();
        assert!(err.contains("line 2"), "{err}");
        assert!(parse_stl(b"hello").unwrap_err().contains("not an STL file"));
    }
}
