//! A small CPU rasterizer for camera views: depth-buffered, flat-shaded triangles of the
//! scene's primitives (boxes, spheres, cylinders) and triangle meshes (robot links), RGB
//! `u8`, no GPU and no display. Deterministic: the same scene and camera give the same bytes.
//!
//! Conventions: world z up; a camera looks from `eye` at `target`; pixels are row-major,
//! row 0 at the top; near plane 0.02 m, triangles are clipped against it.

use std::sync::Arc;

use rapier3d::prelude::{Pose, Vector};

use crate::stl::TriangleMesh;

/// An RGB colour.
pub type Rgb = [u8; 3];

/// A pinhole camera.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Camera {
    /// Position, m.
    pub eye: [f32; 3],
    /// The point it looks at, m.
    pub target: [f32; 3],
    /// Which way is up in the image (world vector; default +z).
    pub up: [f32; 3],
    /// Vertical field of view, rad.
    pub fov_y: f32,
    /// Image width, px.
    pub width: usize,
    /// Image height, px.
    pub height: usize,
}

/// A shape to draw, in its own frame.
#[derive(Debug, Clone, PartialEq)]
pub enum Primitive {
    /// A box with these half extents, m.
    Cuboid([f32; 3]),
    /// A sphere of this radius, m.
    Ball(f32),
    /// A cylinder along local z: radius and half height, m.
    Cylinder(f32, f32),
    /// A triangle mesh, m (shared, so a scene's items are cheap to rebuild every frame).
    Mesh(Arc<TriangleMesh>),
}

/// A shape placed in the world with a colour.
#[derive(Debug, Clone)]
pub struct Item {
    /// The shape.
    pub primitive: Primitive,
    /// Its pose.
    pub pose: Pose,
    /// Its colour.
    pub color: Rgb,
}

/// An RGB image.
#[derive(Debug, Clone, PartialEq)]
pub struct Frame {
    /// Width, px.
    pub width: usize,
    /// Height, px.
    pub height: usize,
    /// `height × width × 3` bytes, row-major from the top.
    pub rgb: Vec<u8>,
}

type V3 = [f32; 3];

fn sub(a: V3, b: V3) -> V3 {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}

fn dot(a: V3, b: V3) -> f32 {
    a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
}

fn cross(a: V3, b: V3) -> V3 {
    [
        a[1] * b[2] - a[2] * b[1],
        a[2] * b[0] - a[0] * b[2],
        a[0] * b[1] - a[1] * b[0],
    ]
}

/// `a` scaled to unit length (zero stays zero).
pub fn normalize(a: V3) -> V3 {
    let l = dot(a, a).sqrt().max(1e-12);
    [a[0] / l, a[1] / l, a[2] / l]
}

/// Unit meshes (triangles as vertex triples), built once.
struct Meshes {
    cube: Vec<[V3; 3]>,
    sphere: Vec<[V3; 3]>,
    cylinder: Vec<[V3; 3]>,
}

fn meshes() -> &'static Meshes {
    static MESHES: std::sync::OnceLock<Meshes> = std::sync::OnceLock::new();
    MESHES.get_or_init(|| {
        // Cube [-1, 1]³: two triangles per face, counter-clockwise seen from outside.
        let mut cube = Vec::new();
        for axis in 0..3 {
            for sign in [-1.0f32, 1.0] {
                let (u, v) = ((axis + 1) % 3, (axis + 2) % 3);
                let corner = |a: f32, b: f32| {
                    let mut p = [0.0; 3];
                    p[axis] = sign;
                    p[u] = a;
                    p[v] = b;
                    p
                };
                let (p00, p10, p11, p01) = (
                    corner(-1.0, -1.0),
                    corner(1.0, -1.0),
                    corner(1.0, 1.0),
                    corner(-1.0, 1.0),
                );
                if sign > 0.0 {
                    cube.push([p00, p10, p11]);
                    cube.push([p00, p11, p01]);
                } else {
                    cube.push([p00, p11, p10]);
                    cube.push([p00, p01, p11]);
                }
            }
        }
        // UV sphere, 8 stacks × 12 slices.
        let (stacks, slices) = (8, 12);
        let point = |i: usize, j: usize| {
            let theta = std::f32::consts::PI * i as f32 / stacks as f32;
            let phi = std::f32::consts::TAU * j as f32 / slices as f32;
            [
                theta.sin() * phi.cos(),
                theta.sin() * phi.sin(),
                theta.cos(),
            ]
        };
        let mut sphere = Vec::new();
        for i in 0..stacks {
            for j in 0..slices {
                let (a, b, c, d) = (
                    point(i, j),
                    point(i + 1, j),
                    point(i + 1, j + 1),
                    point(i, j + 1),
                );
                if i > 0 {
                    sphere.push([a, b, d]);
                }
                if i + 1 < stacks {
                    sphere.push([d, b, c]);
                }
            }
        }
        // Cylinder along z, radius 1, z ∈ [-1, 1], 16 sides with caps.
        let n = 16;
        let ring = |j: usize, z: f32| {
            let phi = std::f32::consts::TAU * j as f32 / n as f32;
            [phi.cos(), phi.sin(), z]
        };
        let mut cylinder = Vec::new();
        for j in 0..n {
            let (a, b, c, d) = (
                ring(j, -1.0),
                ring(j + 1, -1.0),
                ring(j + 1, 1.0),
                ring(j, 1.0),
            );
            cylinder.push([a, b, c]);
            cylinder.push([a, c, d]);
            cylinder.push([[0.0, 0.0, 1.0], d, c]);
            cylinder.push([[0.0, 0.0, -1.0], b, a]);
        }
        Meshes {
            cube,
            sphere,
            cylinder,
        }
    })
}

/// Colour of the background (sky), RGB.
pub const BACKGROUND: Rgb = [200, 214, 230];

/// Direction towards the default light (not normalized): above, in front and to the left.
pub const LIGHT_DIRECTION: [f32; 3] = [0.4, 0.3, 1.0];

/// The scene's light: a directional light plus a fixed ambient share of 0.35.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Light {
    /// Direction towards the light (normalized when drawing).
    pub direction: [f32; 3],
    /// Colour per channel, 1 = white (multiplies every shaded colour).
    pub color: [f32; 3],
}

impl Default for Light {
    fn default() -> Self {
        Self {
            direction: LIGHT_DIRECTION,
            color: [1.0; 3],
        }
    }
}

/// Render `items` seen by `camera` into `frame` (resized to the camera's size) under the
/// default light.
pub fn render(camera: &Camera, items: &[Item], frame: &mut Frame) {
    render_lit(camera, items, &Light::default(), frame);
}

/// Render `items` seen by `camera` under `light` into `frame`.
pub fn render_lit(camera: &Camera, items: &[Item], light: &Light, frame: &mut Frame) {
    let (w, h) = (camera.width, camera.height);
    frame.width = w;
    frame.height = h;
    frame.rgb.clear();
    frame.rgb.resize(w * h * 3, 0);
    for px in frame.rgb.chunks_exact_mut(3) {
        px.copy_from_slice(&BACKGROUND);
    }
    let mut depth = vec![f32::INFINITY; w * h];
    // Camera basis: forward f, right r, up u.
    let f = normalize(sub(camera.target, camera.eye));
    let r = normalize(cross(f, camera.up));
    let u = cross(r, f);
    let focal = 0.5 * h as f32 / (0.5 * camera.fov_y).tan();
    let (tint, light) = (light.color, normalize(light.direction));
    let light_cam = [dot(light, r), dot(light, u), dot(light, f)];
    let meshes = meshes();
    let mut corners: Vec<V3> = Vec::new();
    let draw = |world: [V3; 3], color: Rgb, depth: &mut [f32], rgb: &mut [u8]| {
        let normal = normalize(cross(sub(world[1], world[0]), sub(world[2], world[0])));
        // Back-face culling: skip faces turned away from the eye.
        if dot(normal, sub(world[0], camera.eye)) >= 0.0 {
            return;
        }
        let shade = 0.35 + 0.65 * dot(normal, light).max(0.0);
        let color = [0, 1, 2].map(|k| (f32::from(color[k]) * shade * tint[k]).min(255.0) as u8);
        // Camera coordinates: (x right, y up, z forward).
        let cam = world.map(|p| {
            let d = sub(p, camera.eye);
            [dot(d, r), dot(d, u), dot(d, f)]
        });
        let (clipped, n) = clip_near(cam);
        for t in &clipped[..n] {
            raster_triangle(t, focal, w, h, color, depth, rgb);
        }
    };
    for item in items {
        let (mesh, scale): (&[[V3; 3]], V3) = match &item.primitive {
            Primitive::Cuboid(half) => (&meshes.cube, *half),
            Primitive::Ball(radius) => (&meshes.sphere, [*radius; 3]),
            Primitive::Cylinder(radius, half) => (&meshes.cylinder, [*radius, *radius, *half]),
            Primitive::Mesh(mesh) => {
                // Each shared corner goes to camera coordinates once; a mesh wholly
                // behind the near plane or beside the view is skipped.
                corners.clear();
                corners.extend(mesh.vertices.iter().map(|p| {
                    let v = item.pose * Vector::new(p[0], p[1], p[2]);
                    let d = sub([v.x, v.y, v.z], camera.eye);
                    [dot(d, r), dot(d, u), dot(d, f)]
                }));
                if outside_view(&corners, focal, w, h) {
                    continue;
                }
                for t in &mesh.triangles {
                    let cam = t.map(|i| corners[i as usize]);
                    let normal = cross(sub(cam[1], cam[0]), sub(cam[2], cam[0]));
                    // Back-face culling: the eye is the origin here.
                    if dot(normal, cam[0]) >= 0.0 {
                        continue;
                    }
                    let shade = 0.35 + 0.65 * dot(normalize(normal), light_cam).max(0.0);
                    let color = [0, 1, 2]
                        .map(|k| (f32::from(item.color[k]) * shade * tint[k]).min(255.0) as u8);
                    let (clipped, n) = clip_near(cam);
                    for t in &clipped[..n] {
                        raster_triangle(t, focal, w, h, color, &mut depth, &mut frame.rgb);
                    }
                }
                continue;
            }
        };
        let to_world = |p: V3| -> V3 {
            let v = item.pose * Vector::new(p[0] * scale[0], p[1] * scale[1], p[2] * scale[2]);
            [v.x, v.y, v.z]
        };
        for tri in mesh {
            draw(tri.map(to_world), item.color, &mut depth, &mut frame.rgb);
        }
    }
}

/// Render into a bare RGB buffer (`camera.height × camera.width × 3` bytes, reused).
pub fn render_rgb(camera: &Camera, items: &[Item], rgb: &mut Vec<u8>) {
    render_rgb_lit(camera, items, &Light::default(), rgb);
}

/// [`render_rgb`] under `light`.
pub fn render_rgb_lit(camera: &Camera, items: &[Item], light: &Light, rgb: &mut Vec<u8>) {
    let mut frame = Frame {
        width: camera.width,
        height: camera.height,
        rgb: std::mem::take(rgb),
    };
    render_lit(camera, items, light, &mut frame);
    *rgb = frame.rgb;
}

impl Camera {
    /// A `width × height` camera at `eye` looking at `target` with `up` up and a vertical
    /// field of view `fov_y` rad.
    pub fn look_at(
        eye: [f32; 3],
        target: [f32; 3],
        up: [f32; 3],
        fov_y: f32,
        (width, height): (usize, usize),
    ) -> Self {
        Self {
            eye,
            target,
            up,
            fov_y,
            width,
            height,
        }
    }
}

const NEAR: f32 = 0.02;

/// Whether camera-space points all lie behind the near plane, or all beyond one side of
/// the image (so no triangle between them can show).
fn outside_view(points: &[V3], focal: f32, w: usize, h: usize) -> bool {
    let (half_w, half_h) = (0.5 * w as f32 / focal, 0.5 * h as f32 / focal);
    let all = |test: &dyn Fn(&V3) -> bool| points.iter().all(test);
    all(&|p| p[2] <= NEAR)
        || all(&|p| p[0] > half_w * p[2] && p[2] > 0.0)
        || all(&|p| p[0] < -half_w * p[2] && p[2] > 0.0)
        || all(&|p| p[1] > half_h * p[2] && p[2] > 0.0)
        || all(&|p| p[1] < -half_h * p[2] && p[2] > 0.0)
}

/// Clip a camera-space triangle against z = NEAR: 0, 1 or 2 triangles (the first `n`
/// of the array), without allocating.
fn clip_near(t: [V3; 3]) -> ([[V3; 3]; 2], usize) {
    let inside = t.map(|p| p[2] > NEAR);
    let count = inside.iter().filter(|&&b| b).count();
    if count == 3 {
        return ([t, t], 1);
    }
    if count == 0 {
        return ([t, t], 0);
    }
    let cut = |a: V3, b: V3| -> V3 {
        let s = (NEAR - a[2]) / (b[2] - a[2]);
        [a[0] + (b[0] - a[0]) * s, a[1] + (b[1] - a[1]) * s, NEAR]
    };
    let mut poly = [[0.0; 3]; 4];
    let mut len = 0;
    for k in 0..3 {
        let (a, b) = (t[k], t[(k + 1) % 3]);
        let (ia, ib) = (inside[k], inside[(k + 1) % 3]);
        if ia {
            poly[len] = a;
            len += 1;
        }
        if ia != ib {
            poly[len] = cut(a, b);
            len += 1;
        }
    }
    // One vertex inside: a triangle; two inside: a quad, split in two.
    (
        [[poly[0], poly[1], poly[2]], [poly[0], poly[2], poly[3]]],
        len - 2,
    )
}

fn raster_triangle(
    t: &[V3; 3],
    focal: f32,
    w: usize,
    h: usize,
    color: Rgb,
    depth: &mut [f32],
    rgb: &mut [u8],
) {
    // Project: pixel x = cx + f·x/z, pixel y = cy − f·y/z. Edge functions in f64: a large
    // triangle (the ground) projects to coordinates far outside the image, where f32
    // products would lose the sign of small weights.
    let (cx, cy) = (0.5 * w as f64, 0.5 * h as f64);
    let focal = f64::from(focal);
    let p = t.map(|v| {
        let (x, y, z) = (f64::from(v[0]), f64::from(v[1]), f64::from(v[2]));
        [cx + focal * x / z, cy - focal * y / z, 1.0 / z]
    });
    let area =
        (p[1][0] - p[0][0]) * (p[2][1] - p[0][1]) - (p[1][1] - p[0][1]) * (p[2][0] - p[0][0]);
    if area.abs() < 1e-12 {
        return;
    }
    let sign = area.signum();
    let bound = |k: usize, lo: f64, hi: f64| {
        let min = p
            .iter()
            .map(|v| v[k])
            .fold(f64::INFINITY, f64::min)
            .floor()
            .clamp(lo, hi);
        let max = p
            .iter()
            .map(|v| v[k])
            .fold(f64::NEG_INFINITY, f64::max)
            .ceil()
            .clamp(lo, hi);
        (min as usize, max as usize)
    };
    let (min_x, max_x) = bound(0, 0.0, w as f64);
    let (min_y, max_y) = bound(1, 0.0, h as f64);
    for y in min_y..max_y {
        let py = y as f64 + 0.5;
        for x in min_x..max_x {
            let px = x as f64 + 0.5;
            let e = |a: [f64; 3], b: [f64; 3]| {
                (b[0] - a[0]) * (py - a[1]) - (b[1] - a[1]) * (px - a[0])
            };
            let (e0, e1, e2) = (e(p[1], p[2]), e(p[2], p[0]), e(p[0], p[1]));
            // Inside when every e / area ≥ 0: test the signs first, divide only inside.
            if e0 * sign < 0.0 || e1 * sign < 0.0 || e2 * sign < 0.0 {
                continue;
            }
            let (w0, w1, w2) = (e0 / area, e1 / area, e2 / area);
            // Interpolate 1/z linearly in screen space; nearer wins.
            let z = (1.0 / (w0 * p[0][2] + w1 * p[1][2] + w2 * p[2][2])) as f32;
            let k = y * w + x;
            if z < depth[k] {
                depth[k] = z;
                rgb[3 * k..3 * k + 3].copy_from_slice(&color);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rapier3d::prelude::Rotation;

    fn camera() -> Camera {
        Camera {
            eye: [0.0, -3.0, 1.0],
            target: [0.0, 0.0, 0.0],
            up: [0.0, 0.0, 1.0],
            fov_y: 0.8,
            width: 64,
            height: 64,
        }
    }

    fn at(x: f32, y: f32, z: f32) -> Pose {
        Pose::from_parts(Vector::new(x, y, z), Rotation::IDENTITY)
    }

    #[test]
    fn nearer_shapes_hide_farther_ones_and_the_sky_shows_elsewhere() {
        let red = Item {
            primitive: Primitive::Cuboid([0.3; 3]),
            pose: at(0.0, -1.0, 0.0),
            color: [255, 0, 0],
        };
        let blue = Item {
            primitive: Primitive::Ball(0.8),
            pose: at(0.0, 1.0, 0.0),
            color: [0, 0, 255],
        };
        let mut frame = Frame {
            width: 0,
            height: 0,
            rgb: Vec::new(),
        };
        // Drawn in either order, the red box in front covers the middle.
        for items in [[red.clone(), blue.clone()], [blue, red]] {
            render(&camera(), &items, &mut frame);
            let centre = 3 * (32 * 64 + 32);
            let c = &frame.rgb[centre..centre + 3];
            assert!(c[0] > 80 && c[1] == 0 && c[2] == 0, "{c:?}");
        }
        // The blue ball shows beside the box; the corner is sky.
        let side = 3 * (32 * 64 + 20);
        assert!(
            frame.rgb[side + 2] > 80 && frame.rgb[side] == 0,
            "{:?}",
            &frame.rgb[side..side + 3]
        );
        assert_eq!(&frame.rgb[0..3], &BACKGROUND);
    }

    #[test]
    fn a_ground_slab_reaching_behind_the_camera_is_clipped_not_lost() {
        let ground = Item {
            primitive: Primitive::Cuboid([20.0, 20.0, 0.1]),
            pose: at(0.0, 0.0, -0.6),
            color: [90, 160, 90],
        };
        let mut frame = Frame {
            width: 0,
            height: 0,
            rgb: Vec::new(),
        };
        render(&camera(), &[ground], &mut frame);
        // The bottom row sees the ground; the top row sees sky.
        let bottom = 3 * (63 * 64 + 32);
        assert_ne!(&frame.rgb[bottom..bottom + 3], &BACKGROUND);
        assert_eq!(&frame.rgb[3 * 32..3 * 32 + 3], &BACKGROUND);
    }

    #[test]
    fn rendering_is_deterministic() {
        let items = [Item {
            primitive: Primitive::Cylinder(0.3, 0.6),
            pose: at(0.2, 0.0, 0.0),
            color: [200, 120, 40],
        }];
        let (mut a, mut b) = (
            Frame {
                width: 0,
                height: 0,
                rgb: Vec::new(),
            },
            Frame {
                width: 0,
                height: 0,
                rgb: Vec::new(),
            },
        );
        render(&camera(), &items, &mut a);
        render(&camera(), &items, &mut b);
        assert_eq!(a, b);
    }
}
