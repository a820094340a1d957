"""openued environments with their level spaces.

``envs.maze``: the Maze of the UED literature (generator, mutators, BFS, renderer, prefabs, ASCII
I/O). ``envs.gymnax_levels``: any gymnax environment with chosen ``EnvParams`` fields as levels.
``envs.aleatoric``: the gamble and lava mazes for SAMPLR, Maze variants with aleatoric levels.
``envs.keydoor``: the key-and-door maze, a Maze variant with a key and a locked door.
``envs.xland``: XLand-MiniGrid rulesets (the optional ``xminigrid`` package) as a level space.
Submodules are imported lazily so that ``import envs`` stays cheap.
"""
