//! A URDF arm parsed once, with its collision meshes as convex hulls, ready to be inserted
//! into any number of worlds ([`crate::Arm`] is one inserted copy).

use std::path::Path;
use std::sync::Arc;

use rapier3d::prelude::*;
use rapier3d_urdf::{UrdfCollider, UrdfLoaderOptions, UrdfRobot};

use crate::SimError;
use crate::stl::{TriangleMesh, parse_stl};

/// What a joint does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JointKind {
    /// Rotation about the joint axis, rad.
    Revolute,
    /// Translation along the joint axis, m.
    Prismatic,
}

/// One actuated joint as the URDF describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct JointSpec {
    /// URDF joint name.
    pub name: String,
    /// Revolute or prismatic.
    pub kind: JointKind,
    /// Lower limit, rad or m.
    pub lower: f32,
    /// Upper limit, rad or m.
    pub upper: f32,
    /// Largest motor effort, N·m or N (URDF `effort`).
    pub effort: f32,
    /// Largest speed, rad/s or m/s (URDF `velocity`).
    pub velocity: f32,
}

/// Edge of the clustering cells of [`LinkMesh::coarse`], m.
pub const COARSE_CELL: f32 = 0.025;

/// A mesh drawn for one link: the source triangles of a collision mesh, placed in the
/// link's frame.
#[derive(Debug, Clone)]
pub struct LinkMesh {
    /// The link, URDF index.
    pub link: usize,
    /// Pose of the mesh in the link's frame.
    pub local: Pose,
    /// The triangles, m.
    pub mesh: Arc<TriangleMesh>,
    /// A coarser surface for small images, where a source triangle covers about a pixel:
    /// the convex hull of the mesh's vertices clustered in [`COARSE_CELL`] cubes (the
    /// links are convex, and a hull keeps every face turned outwards).
    pub coarse: Arc<TriangleMesh>,
}

/// A parsed URDF arm, ready to be inserted into any number of worlds.
///
/// Revolute and prismatic joints are actuated; fixed joints weld links (a flange, a hand)
/// to their parents. Collision meshes (STL, binary or ASCII) become convex hulls: exact for
/// convex link meshes such as the Franka Panda's, and cheap to collide.
#[derive(Debug, Clone)]
pub struct ArmModel {
    pub(crate) name: String,
    pub(crate) robot: UrdfRobot,
    pub(crate) joints: Vec<JointSpec>,
    /// For each actuated joint, its index in `robot.joints`.
    pub(crate) joint_slots: Vec<usize>,
    links: Vec<String>,
    /// For each URDF link, its index in `robot.links` (`None`: an empty frame the loader
    /// merged away, such as a tool-centre-point link).
    pub(crate) link_slots: Vec<Option<usize>>,
    pub(crate) meshes: Vec<LinkMesh>,
}

/// Where the meshes a URDF names come from: `(file name as written in the URDF) → bytes`.
pub type MeshResolver<'a> = &'a dyn Fn(&str) -> Result<Vec<u8>, String>;

impl ArmModel {
    /// Parse `urdf` (named `name` in errors). It must not name meshes (use
    /// [`ArmModel::from_urdf_file`] or [`ArmModel::from_urdf_with_meshes`] for those).
    pub fn from_urdf_str(name: &str, urdf: &str) -> Result<Self, SimError> {
        Self::from_urdf_with_meshes(name, urdf, &|file| {
            Err(format!(
                "this URDF was given as text, so `{file}` cannot be found: load it from its file"
            ))
        })
    }

    /// Read the URDF at `path`; mesh file names are relative to its directory.
    pub fn from_urdf_file(path: &Path) -> Result<Self, SimError> {
        let name = path.display().to_string();
        let urdf = std::fs::read_to_string(path).map_err(|e| SimError::Urdf {
            name: name.clone(),
            message: format!("cannot read it: {e}"),
        })?;
        let dir = path.parent().unwrap_or(Path::new(".")).to_path_buf();
        Self::from_urdf_with_meshes(&name, &urdf, &|file| {
            let full = dir.join(file);
            std::fs::read(&full).map_err(|e| format!("cannot read {}: {e}", full.display()))
        })
    }

    /// Parse `urdf`, reading each collision mesh it names through `meshes`. Every mesh
    /// must load: a missing or unreadable one is an error naming the link and the file
    /// (never a link silently left without colliders).
    pub fn from_urdf_with_meshes(
        name: &str,
        urdf: &str,
        meshes: MeshResolver<'_>,
    ) -> Result<Self, SimError> {
        let err = |message: String| SimError::Urdf {
            name: name.to_string(),
            message,
        };
        let model_err = |message: String| SimError::Model {
            name: name.to_string(),
            message,
        };
        let mut parsed = urdf_rs::read_from_string(urdf).map_err(|e| err(e.to_string()))?;
        let mut joints = Vec::new();
        let mut actuated = Vec::new();
        for (i, j) in parsed.joints.iter().enumerate() {
            let kind = match j.joint_type {
                urdf_rs::JointType::Revolute => JointKind::Revolute,
                urdf_rs::JointType::Prismatic => JointKind::Prismatic,
                urdf_rs::JointType::Fixed => continue,
                ref other => {
                    return Err(model_err(format!(
                        "joint `{}` is {other:?}; only revolute, prismatic and fixed joints are supported",
                        j.name
                    )));
                }
            };
            if j.limit.lower > j.limit.upper {
                return Err(model_err(format!(
                    "joint `{}` has lower limit {} above its upper limit {}",
                    j.name, j.limit.lower, j.limit.upper
                )));
            }
            actuated.push(i);
            joints.push(JointSpec {
                name: j.name.clone(),
                kind,
                lower: j.limit.lower as f32,
                upper: j.limit.upper as f32,
                effort: j.limit.effort as f32,
                velocity: j.limit.velocity as f32,
            });
        }
        // Mesh collision elements are loaded here (rapier3d-urdf would drop a failed one
        // silently); primitives are left to the loader.
        let mut mesh_colliders: Vec<Vec<(Pose, TriangleMesh)>> =
            vec![Vec::new(); parsed.links.len()];
        for (link, loaded) in parsed.links.iter_mut().zip(&mut mesh_colliders) {
            let mut kept = Vec::with_capacity(link.collision.len());
            for collision in link.collision.drain(..) {
                let urdf_rs::Geometry::Mesh { filename, scale } = &collision.geometry else {
                    kept.push(collision);
                    continue;
                };
                let mesh_err = |message: String| SimError::Mesh {
                    name: name.to_string(),
                    link: link.name.clone(),
                    mesh: filename.clone(),
                    message,
                };
                let bytes = meshes(filename).map_err(mesh_err)?;
                let scale = scale.as_ref().map_or([1.0; 3], |s| s.0.map(|x| x as f32));
                let mesh = parse_stl(&bytes).map_err(mesh_err)?.scaled(scale);
                if mesh.triangles.len() < 4 {
                    return Err(mesh_err(format!(
                        "has {} triangles: too few to enclose a volume",
                        mesh.triangles.len()
                    )));
                }
                loaded.push((urdf_pose(&collision.origin), mesh));
            }
            link.collision = kept;
        }
        let options = UrdfLoaderOptions {
            make_roots_fixed: true,
            ..UrdfLoaderOptions::default()
        };
        let mut robot = UrdfRobot::from_robot(&parsed, options, Path::new("."));
        let mut link_slots = vec![None; parsed.links.len()];
        let mut meshes_out = Vec::new();
        for (slot, link) in robot.links.iter_mut().enumerate() {
            let urdf_index = link.urdf_link_index;
            link_slots[urdf_index] = Some(slot);
            for (local, mesh) in std::mem::take(&mut mesh_colliders[urdf_index]) {
                let points: Vec<Vector> = mesh
                    .vertices
                    .iter()
                    .map(|v| Vector::new(v[0], v[1], v[2]))
                    .collect();
                let builder =
                    ColliderBuilder::convex_hull(&points).ok_or_else(|| SimError::Mesh {
                        name: name.to_string(),
                        link: parsed.links[urdf_index].name.clone(),
                        mesh: "(collision mesh)".into(),
                        message: "its vertices have no 3-D convex hull (flat or degenerate)".into(),
                    })?;
                // Mass comes from the URDF's inertial, not from the hull's volume.
                let collider = builder.density(0.0).position(local).build();
                link.colliders.push(UrdfCollider {
                    collider,
                    visual: None,
                });
                meshes_out.push(LinkMesh {
                    link: urdf_index,
                    local,
                    coarse: Arc::new(coarse_hull(&mesh)),
                    mesh: Arc::new(mesh),
                });
            }
        }
        if let Some(i) = mesh_colliders.iter().position(|m| !m.is_empty()) {
            return Err(model_err(format!(
                "link `{}` has collision meshes but no inertial or visual: give it an <inertial>",
                parsed.links[i].name
            )));
        }
        let mut joint_slots = Vec::with_capacity(actuated.len());
        for (&urdf_index, spec) in actuated.iter().zip(&joints) {
            let slot = robot
                .joints
                .iter()
                .position(|j| j.source_urdf_joint_index() == urdf_index)
                .ok_or_else(|| {
                    model_err(format!(
                        "joint `{}` was lost while loading (it connects no links)",
                        spec.name
                    ))
                })?;
            joint_slots.push(slot);
        }
        if link_slots.iter().flatten().next().is_none() {
            return Err(model_err("has no links with a body".into()));
        }
        Ok(Self {
            name: name.to_string(),
            robot,
            joints,
            joint_slots,
            links: parsed.links.iter().map(|l| l.name.clone()).collect(),
            link_slots,
            meshes: meshes_out,
        })
    }

    /// The robot's name as given.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The actuated joints, in URDF order.
    pub fn joints(&self) -> &[JointSpec] {
        &self.joints
    }

    /// Index of the actuated joint called `name`.
    pub fn joint_index(&self, name: &str) -> Option<usize> {
        self.joints.iter().position(|j| j.name == name)
    }

    /// Index of the link called `name` (URDF order). Links that are bare frames merged
    /// into their parent (no geometry, no inertia) have no body: see
    /// [`ArmModel::has_body`].
    pub fn link_index(&self, name: &str) -> Option<usize> {
        self.links.iter().position(|l| l == name)
    }

    /// Whether URDF link `i` became a rigid body (bare frames do not).
    pub fn has_body(&self, i: usize) -> bool {
        self.link_slots.get(i).is_some_and(Option::is_some)
    }

    /// The links' names, URDF order.
    pub fn links(&self) -> &[String] {
        &self.links
    }

    /// The collision meshes, for drawing.
    pub fn meshes(&self) -> &[LinkMesh] {
        &self.meshes
    }
}

/// The convex hull of `mesh`'s vertices clustered in [`COARSE_CELL`] cubes.
fn coarse_hull(mesh: &TriangleMesh) -> TriangleMesh {
    let clustered = mesh.clustered(COARSE_CELL);
    let points: Vec<Vector> = clustered
        .vertices
        .iter()
        .map(|v| Vector::new(v[0], v[1], v[2]))
        .collect();
    let (vertices, triangles) = rapier3d::parry::transformation::convex_hull(&points);
    TriangleMesh {
        vertices: vertices.iter().map(|v| [v.x, v.y, v.z]).collect(),
        triangles,
    }
}

/// A URDF `<origin xyz rpy>` as a pose: R = Rz(yaw)·Ry(pitch)·Rx(roll).
fn urdf_pose(origin: &urdf_rs::Pose) -> Pose {
    let [x, y, z] = origin.xyz.0.map(|v| v as f32);
    let [roll, pitch, yaw] = origin.rpy.0.map(|v| v as f32);
    let rotation = Rotation::from_rotation_z(yaw)
        * Rotation::from_rotation_y(pitch)
        * Rotation::from_rotation_x(roll);
    Pose::from_parts(Vector::new(x, y, z), rotation)
}
