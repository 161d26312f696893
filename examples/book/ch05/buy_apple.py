"""Book 5.4.1 (ch05/buy_apple.py, Fig. 5-16): 2 apples at 100 with 10% tax, forward and backward
through the multiplication layers; prints price 220 and the gradients 2.2, 110, 200. The same
graph, drawn by the engine, shows those numbers in red under its arrows.

    python examples/book/ch05/buy_apple.py          (writes out/book/buy_apple.png)
"""

from pathlib import Path

from layer_naive import MulLayer

from viz import draw, number

apple = 100
apple_num = 2
tax = 1.1

mul_apple_layer = MulLayer()
mul_tax_layer = MulLayer()

# forward
apple_price = mul_apple_layer.forward(apple, apple_num)
price = mul_tax_layer.forward(apple_price, tax)

# backward
dprice = 1
dapple_price, dtax = mul_tax_layer.backward(dprice)
dapple, dapple_num = mul_apple_layer.backward(dapple_price)

print("price:", int(price.item()))
print("dApple:", number(dapple))
print("dApple_num:", int(dapple_num))
print("dTax:", number(dtax))

# the whole graph at once: backward from the price puts the same numbers in .grad
mul_apple_layer.x.name, mul_apple_layer.y.name, mul_tax_layer.y.name = "apple", "apple_num", "tax"
price.name = "price"
price.backward()
path = draw(price, title="Fig. 5-16: buying apples").save(Path("out/book") / "buy_apple.png")
print(f"saved {path}")
