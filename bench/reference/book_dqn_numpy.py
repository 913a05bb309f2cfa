#!/usr/bin/env python3
"""An independent NumPy re-implementation of Deep Learning Illustrated ch. 13's CartPole DQN.

Why it exists: the lab's `book` preset (agents/dqn.ts, `lab train --agent dqn --preset book`) is meant to run
the book's algorithm exactly, and its last-10-episode scores rarely reach 199 all ten times. Keras and
TensorFlow cannot be installed on the lab's machines (only npm and Debian packages are reachable), so this
script re-creates what the book's Keras code computes with NumPy alone, written from the algorithm's
description (not from the book's code), to tell a bug in the TypeScript agent from the behaviour of the
algorithm itself. It is a reference for `npm run bench:agents -- --only book`, not part of the lab.

What it computes, as the book's agent does:
  - CartPole-v0: Gym's Euler dynamics (tau 0.02, force 10, pole half-length 0.5, masses 1.0 / 0.1), done when
    |x| > 2.4, |theta| > 12 degrees or after 200 steps; reset uniform in [-0.05, 0.05]^4.
  - the reward of every step that ends an episode (the 200-step cut-off included) is replaced by -10;
  - network 4 -> 32 ReLU -> 32 ReLU -> 2 linear, float32, Glorot-uniform kernels and zero biases;
  - epsilon-greedy with epsilon starting at 1.0 (explore when rand() <= epsilon);
  - memory: the last 2000 transitions; after each episode, when it holds more than 32, one "replay": 32
    memories sampled without replacement, each fitted on its own (one Adam step on a batch of one) towards
    target_f = the current prediction with the chosen action's entry replaced by r (done) or
    r + 0.95 * max_a Q(s', a) from the network as it is at that moment; the loss is the MSE over both outputs;
  - Adam as Keras 2.2 computes it: lr 1e-3, beta 0.9 / 0.999, epsilon 1e-7,
    lr_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t), p -= lr_t * m / (sqrt(v) + epsilon);
  - after each replay, epsilon *= 0.995 while it is above 0.01;
  - 1000 episodes; the score printed for an episode is its length - 1 (the book prints the step index).

Usage: python3 bench/reference/book_dqn_numpy.py [--seeds 1-20] [--episodes 1000]
Prints one JSON object: for each seed the last 10 scores and how many of them are 199 (and a line per seed
on stderr as it goes).
"""
import argparse
import json
import math
import sys
import time
from collections import deque

import numpy as np

GRAVITY, MASS_CART, MASS_POLE, HALF_LENGTH, FORCE, TAU = 9.8, 1.0, 0.1, 0.5, 10.0, 0.02
TOTAL_MASS = MASS_CART + MASS_POLE
POLE_MASS_LENGTH = MASS_POLE * HALF_LENGTH
THETA_LIMIT = 12 * 2 * math.pi / 360
X_LIMIT = 2.4
MAX_STEPS = 200


class CartPole:
    def __init__(self, rng):
        self.rng = rng
        self.state = None
        self.steps = 0

    def reset(self):
        self.state = self.rng.uniform(-0.05, 0.05, size=4)
        self.steps = 0
        return self.state.copy()

    def step(self, action):
        x, x_dot, theta, theta_dot = self.state
        force = FORCE if action == 1 else -FORCE
        cos, sin = math.cos(theta), math.sin(theta)
        temp = (force + POLE_MASS_LENGTH * theta_dot * theta_dot * sin) / TOTAL_MASS
        theta_acc = (GRAVITY * sin - cos * temp) / (HALF_LENGTH * (4.0 / 3.0 - MASS_POLE * cos * cos / TOTAL_MASS))
        x_acc = temp - POLE_MASS_LENGTH * theta_acc * cos / TOTAL_MASS
        x = x + TAU * x_dot
        x_dot = x_dot + TAU * x_acc
        theta = theta + TAU * theta_dot
        theta_dot = theta_dot + TAU * theta_acc
        self.state = np.array([x, x_dot, theta, theta_dot])
        self.steps += 1
        failed = x < -X_LIMIT or x > X_LIMIT or theta < -THETA_LIMIT or theta > THETA_LIMIT
        done = failed or self.steps >= MAX_STEPS
        return self.state.copy(), 1.0, done


class Mlp:
    """4-32-32-2, ReLU hidden layers, linear output, float32; Adam on a batch of one with MSE over both outputs."""

    def __init__(self, rng, sizes=(4, 32, 32, 2), lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-7):
        self.w, self.b = [], []
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
            limit = math.sqrt(6.0 / (fan_in + fan_out))
            self.w.append(rng.uniform(-limit, limit, size=(fan_in, fan_out)).astype(np.float32))
            self.b.append(np.zeros(fan_out, dtype=np.float32))
        self.params = self.w + self.b
        self.m = [np.zeros_like(p) for p in self.params]
        self.v = [np.zeros_like(p) for p in self.params]
        self.t = 0
        self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps

    def predict(self, x):
        h = x.astype(np.float32)
        for i, (w, b) in enumerate(zip(self.w, self.b)):
            h = h @ w + b
            if i < len(self.w) - 1:
                h = np.maximum(h, 0)
        return h

    def fit_one(self, x, target):
        """One Adam step on mean((Q(x) - target)^2) over the outputs."""
        acts = [x.astype(np.float32)]
        h = acts[0]
        for i, (w, b) in enumerate(zip(self.w, self.b)):
            h = h @ w + b
            if i < len(self.w) - 1:
                h = np.maximum(h, 0)
            acts.append(h)
        out = acts[-1]
        grad = (2.0 / out.size) * (out - target.astype(np.float32))
        gw, gb = [None] * len(self.w), [None] * len(self.b)
        for i in reversed(range(len(self.w))):
            gw[i] = acts[i].T @ grad
            gb[i] = grad.sum(axis=0)
            if i > 0:
                grad = (grad @ self.w[i].T) * (acts[i] > 0)
        grads = gw + gb
        self.t += 1
        lr_t = self.lr * math.sqrt(1 - self.beta2 ** self.t) / (1 - self.beta1 ** self.t)
        for p, g, m, v in zip(self.params, grads, self.m, self.v):
            m *= self.beta1
            m += (1 - self.beta1) * g
            v *= self.beta2
            v += (1 - self.beta2) * g * g
            p -= (lr_t * m / (np.sqrt(v) + self.eps)).astype(np.float32)
        return float(np.mean((out - target) ** 2))


def run(seed, episodes):
    rng = np.random.default_rng(seed)
    env = CartPole(np.random.default_rng(seed + 10_000))
    net = Mlp(rng)
    memory = deque(maxlen=2000)
    epsilon, decay, epsilon_min, gamma, batch = 1.0, 0.995, 0.01, 0.95, 32
    scores = []
    for _ in range(episodes):
        state = env.reset()[None, :]
        done = False
        t = 0
        while not done:
            if rng.random() <= epsilon:
                action = int(rng.integers(2))
            else:
                action = int(np.argmax(net.predict(state)[0]))
            next_state, reward, done = env.step(action)
            reward = reward if not done else -10.0
            next_state = next_state[None, :]
            memory.append((state, action, reward, next_state, done))
            state = next_state
            if done:
                scores.append(t)
            t += 1
        if len(memory) > batch:
            for k in rng.choice(len(memory), size=batch, replace=False):
                s, a, r, s2, d = memory[k]
                target = r if d else r + gamma * float(np.max(net.predict(s2)[0]))
                target_f = net.predict(s)
                target_f[0, a] = target
                net.fit_one(s, target_f)
            if epsilon > epsilon_min:
                epsilon *= decay
    return scores


def seed_list(text):
    if '-' in text:
        lo, hi = text.split('-')
        return list(range(int(lo), int(hi) + 1))
    return [int(s) for s in text.split(',')]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--seeds', default='1-20', help='seeds: a range like 1-20 or a list like 1,2,5')
    parser.add_argument('--episodes', type=int, default=1000)
    args = parser.parse_args()
    per_seed = []
    started = time.time()
    for seed in seed_list(args.seeds):
        t0 = time.time()
        scores = run(seed, args.episodes)
        last10 = scores[-10:]
        per_seed.append({
            'seed': seed,
            'last10': last10,
            'last10At199': sum(1 for s in last10 if s >= 199),
            'episodesAt199': sum(1 for s in scores if s >= 199),
            'seconds': round(time.time() - t0, 1),
        })
        print(json.dumps(per_seed[-1]), file=sys.stderr, flush=True)
    counts = sorted((p['last10At199'] for p in per_seed), reverse=True)
    print(json.dumps({
        'reference': 'numpy re-implementation of the book DQN (bench/reference/book_dqn_numpy.py)',
        'episodes': args.episodes,
        'seedsWithAllLast10At199': sum(1 for c in counts if c == 10),
        'last10At199Sorted': counts,
        'meanLast10At199': sum(counts) / len(counts),
        'seconds': round(time.time() - started, 1),
        'perSeed': per_seed,
    }))


if __name__ == '__main__':
    main()
