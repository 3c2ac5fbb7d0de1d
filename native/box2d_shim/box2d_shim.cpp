// A flat C ABI over Box2D 2.4.1 (Debian's libbox2d-dev) for Sim's P/Invoke layer
// (Experiments/Environments/Box2D/Box2DNative.cs). Built by Experiments/Sim.Experiments.csproj (target BuildBox2DShim)
// with the system g++ into libsimbox2d.so when /usr/include/box2d/box2d.h exists; not built otherwise.
//
// One world per handle. Bodies and joints are named by their creation index (0, 1, 2 ...). Nothing here is global or
// shared between worlds, so worlds may be stepped on different threads at once. Contacts are reduced to two flags per
// body, counted only against fixtures whose category bits meet the world's ground bits:
//   contact: set by a contact's begin, cleared by a contact's end (the published BipedalWalker's leg flag: one ending
//            contact clears it even if another still touches)
//   touched: set by a contact's begin, cleared only by sb2_body_clear_touched (the hull's "game over" latch)
// Errors: functions taking an index return -1 (or NaN) for an index out of range; the C# side checks.
#include <box2d/box2d.h>
#include <cmath>
#include <cstdint>
#include <new>
#include <vector>

namespace {

struct Flags { int contact = 0; int touched = 0; };

struct World;

struct Listener final : b2ContactListener {
    World* world = nullptr;
    void BeginContact(b2Contact* c) override;
    void EndContact(b2Contact* c) override;
};

struct World {
    b2World world;
    Listener listener;
    std::vector<b2Body*> bodies;
    std::vector<b2RevoluteJoint*> joints;
    std::vector<Flags> flags;
    uint16_t groundBits = 0x0001;
    explicit World(b2Vec2 g) : world(g) { listener.world = this; world.SetContactListener(&listener); }
};

int BodyIndex(b2Body* b) { return static_cast<int>(b->GetUserData().pointer) - 1; }   // 0 for none -> -1

void Mark(World* w, b2Fixture* self, b2Fixture* other, bool begin) {
    if ((other->GetFilterData().categoryBits & w->groundBits) == 0) return;
    int i = BodyIndex(self->GetBody());
    if (i < 0 || i >= static_cast<int>(w->flags.size())) return;
    if (begin) { w->flags[i].contact = 1; w->flags[i].touched = 1; }
    else w->flags[i].contact = 0;
}

void Listener::BeginContact(b2Contact* c) { Mark(world, c->GetFixtureA(), c->GetFixtureB(), true); Mark(world, c->GetFixtureB(), c->GetFixtureA(), true); }
void Listener::EndContact(b2Contact* c) { Mark(world, c->GetFixtureA(), c->GetFixtureB(), false); Mark(world, c->GetFixtureB(), c->GetFixtureA(), false); }

// The closest hit along a ray among fixtures whose category bits meet the mask (returning the fraction clips the ray).
struct ClosestRay final : b2RayCastCallback {
    uint16_t mask;
    float fraction = 1.0f;
    explicit ClosestRay(uint16_t m) : mask(m) {}
    float ReportFixture(b2Fixture* f, const b2Vec2&, const b2Vec2&, float fr) override {
        if ((f->GetFilterData().categoryBits & mask) == 0) return -1.0f;   // ignore this fixture, go on
        fraction = fr;
        return fr;
    }
};

int AddBody(World* w, b2BodyType type, float x, float y, float angle) {
    b2BodyDef bd;
    bd.type = type;
    bd.position.Set(x, y);
    bd.angle = angle;
    bd.userData.pointer = static_cast<uintptr_t>(w->bodies.size() + 1);
    w->bodies.push_back(w->world.CreateBody(&bd));
    w->flags.emplace_back();
    return static_cast<int>(w->bodies.size()) - 1;
}

void AddFixture(b2Body* b, const b2Shape* shape, float density, float friction, float restitution, uint16_t category, uint16_t mask) {
    b2FixtureDef fd;
    fd.shape = shape;
    fd.density = density;
    fd.friction = friction;
    fd.restitution = restitution;
    fd.filter.categoryBits = category;
    fd.filter.maskBits = mask;
    b->CreateFixture(&fd);
}

bool ValidPolygon(const float* xy, int n) {
    if (xy == nullptr || n < 3 || n > b2_maxPolygonVertices) return false;
    for (int i = 0; i < 2 * n; i++) if (!std::isfinite(xy[i])) return false;
    return true;
}

b2Body* Body(World* w, int i) { return w && i >= 0 && i < static_cast<int>(w->bodies.size()) ? w->bodies[i] : nullptr; }
b2RevoluteJoint* Joint(World* w, int j) { return w && j >= 0 && j < static_cast<int>(w->joints.size()) ? w->joints[j] : nullptr; }

}  // namespace

extern "C" {

// The Box2D version the library was built with, as major*10000 + minor*100 + revision (20401 for 2.4.1).
int sb2_version() { return b2_version.major * 10000 + b2_version.minor * 100 + b2_version.revision; }

void* sb2_world_create(float gx, float gy) { return new (std::nothrow) World(b2Vec2(gx, gy)); }
void sb2_world_destroy(void* w) { delete static_cast<World*>(w); }
void sb2_world_set_ground_bits(void* w, int bits) { static_cast<World*>(w)->groundBits = static_cast<uint16_t>(bits); }
void sb2_world_step(void* w, float dt, int velocityIterations, int positionIterations) {
    static_cast<World*>(w)->world.Step(dt, velocityIterations, positionIterations);
}
int sb2_body_count(void* w) { return static_cast<int>(static_cast<World*>(w)->bodies.size()); }

// A static body holding one two-sided edge (x1, y1)-(x2, y2).
int sb2_static_edge(void* wp, float x1, float y1, float x2, float y2, float friction, int category, int mask) {
    auto* w = static_cast<World*>(wp);
    if (!std::isfinite(x1) || !std::isfinite(y1) || !std::isfinite(x2) || !std::isfinite(y2)) return -1;
    int i = AddBody(w, b2_staticBody, 0, 0, 0);
    b2EdgeShape e;
    e.SetTwoSided(b2Vec2(x1, y1), b2Vec2(x2, y2));
    AddFixture(w->bodies[i], &e, 0.0f, friction, 0.0f, static_cast<uint16_t>(category), static_cast<uint16_t>(mask));
    return i;
}

// A static body holding one convex polygon of n vertices xy[2n] (world coordinates).
int sb2_static_polygon(void* wp, const float* xy, int n, float friction, int category, int mask) {
    auto* w = static_cast<World*>(wp);
    if (!ValidPolygon(xy, n)) return -1;
    std::vector<b2Vec2> v(n);
    for (int k = 0; k < n; k++) v[k].Set(xy[2 * k], xy[2 * k + 1]);
    int i = AddBody(w, b2_staticBody, 0, 0, 0);
    b2PolygonShape p;
    p.Set(v.data(), n);
    AddFixture(w->bodies[i], &p, 0.0f, friction, 0.0f, static_cast<uint16_t>(category), static_cast<uint16_t>(mask));
    return i;
}

// A dynamic body at (x, y, angle) holding one convex polygon of n vertices xy[2n] (body coordinates).
int sb2_dynamic_polygon(void* wp, float x, float y, float angle, const float* xy, int n, float density, float friction, float restitution,
                        int category, int mask) {
    auto* w = static_cast<World*>(wp);
    if (!ValidPolygon(xy, n) || !std::isfinite(x) || !std::isfinite(y) || !std::isfinite(angle)) return -1;
    std::vector<b2Vec2> v(n);
    for (int k = 0; k < n; k++) v[k].Set(xy[2 * k], xy[2 * k + 1]);
    int i = AddBody(w, b2_dynamicBody, x, y, angle);
    b2PolygonShape p;
    p.Set(v.data(), n);
    AddFixture(w->bodies[i], &p, density, friction, restitution, static_cast<uint16_t>(category), static_cast<uint16_t>(mask));
    return i;
}

// A revolute joint between bodies a and b at local anchors (ax, ay) on a and (bx, by) on b, reference angle 0.
int sb2_revolute_joint(void* wp, int a, int b, float ax, float ay, float bx, float by, int enableMotor, float maxMotorTorque, float motorSpeed,
                       int enableLimit, float lowerAngle, float upperAngle) {
    auto* w = static_cast<World*>(wp);
    b2Body* ba = Body(w, a);
    b2Body* bb = Body(w, b);
    if (ba == nullptr || bb == nullptr || a == b) return -1;
    b2RevoluteJointDef d;
    d.bodyA = ba;
    d.bodyB = bb;
    d.localAnchorA.Set(ax, ay);
    d.localAnchorB.Set(bx, by);
    d.referenceAngle = 0.0f;
    d.enableMotor = enableMotor != 0;
    d.maxMotorTorque = maxMotorTorque;
    d.motorSpeed = motorSpeed;
    d.enableLimit = enableLimit != 0;
    d.lowerAngle = lowerAngle;
    d.upperAngle = upperAngle;
    w->joints.push_back(static_cast<b2RevoluteJoint*>(w->world.CreateJoint(&d)));
    return static_cast<int>(w->joints.size()) - 1;
}

int sb2_joint_set_motor(void* wp, int j, float speed, float maxTorque) {
    b2RevoluteJoint* jt = Joint(static_cast<World*>(wp), j);
    if (jt == nullptr) return -1;
    jt->SetMotorSpeed(speed);
    jt->SetMaxMotorTorque(maxTorque);
    return 0;
}

// Joint angle (bodyB - bodyA - reference) and speed (rad/s) into out[2].
int sb2_joint_state(void* wp, int j, float* out) {
    b2RevoluteJoint* jt = Joint(static_cast<World*>(wp), j);
    if (jt == nullptr) return -1;
    out[0] = jt->GetJointAngle();
    out[1] = jt->GetJointSpeed();
    return 0;
}

// x, y, angle, vx, vy, angular velocity into out[6].
int sb2_body_state(void* wp, int i, float* out) {
    b2Body* b = Body(static_cast<World*>(wp), i);
    if (b == nullptr) return -1;
    const b2Vec2& p = b->GetPosition();
    const b2Vec2& v = b->GetLinearVelocity();
    out[0] = p.x; out[1] = p.y; out[2] = b->GetAngle(); out[3] = v.x; out[4] = v.y; out[5] = b->GetAngularVelocity();
    return 0;
}

int sb2_body_apply_force_to_center(void* wp, int i, float fx, float fy) {
    b2Body* b = Body(static_cast<World*>(wp), i);
    if (b == nullptr) return -1;
    b->ApplyForceToCenter(b2Vec2(fx, fy), true);
    return 0;
}

// Flags of body i: bit 0 contact (begin sets, end clears), bit 1 touched (latched since the last clear).
int sb2_body_contact_flags(void* wp, int i) {
    auto* w = static_cast<World*>(wp);
    if (Body(w, i) == nullptr) return -1;
    return w->flags[i].contact | (w->flags[i].touched << 1);
}

int sb2_body_clear_touched(void* wp, int i) {
    auto* w = static_cast<World*>(wp);
    if (Body(w, i) == nullptr) return -1;
    w->flags[i].touched = 0;
    return 0;
}

// The fraction of the segment (x1, y1)-(x2, y2) at its closest hit on a fixture whose category bits meet mask; 1 if none.
float sb2_ray_cast_closest(void* wp, float x1, float y1, float x2, float y2, int mask) {
    auto* w = static_cast<World*>(wp);
    ClosestRay cb(static_cast<uint16_t>(mask));
    b2Vec2 p1(x1, y1), p2(x2, y2);
    if ((p2 - p1).LengthSquared() <= 0.0f) return 1.0f;   // Box2D asserts on a zero-length ray
    w->world.RayCast(&cb, p1, p2);
    return cb.fraction;
}

}  // extern "C"
