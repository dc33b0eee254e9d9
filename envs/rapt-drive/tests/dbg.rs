#[test]
fn dbg() {
    let (map, _) = rapt_drive::opendrive::load("carla/Town02.xodr", Default::default(), 0).unwrap();
    let built = rapt_drive::BuiltMap::new(map);
    for (k, r) in built.map.roads.iter().enumerate().take(20) {
        let m = &r.markings[0];
        let hits = (0..20)
            .filter(|i| {
                built
                    .raster
                    .marking_at(m.line.at(m.line.length() * *i as f32 / 20.0).0)
                    > 0
            })
            .count();
        println!(
            "road {k} hits {hits}/20 first {:?} last {:?}",
            m.line.points[0],
            m.line.points.last().unwrap()
        );
    }
}
