"""The chapter's five training runs, by the names its code gives them
(``histories['<name>'] = train(...)``), in the order the chapter trains them."""

RUNS = ("constant", "square root", "multi factor", "cosine", "warmup")
