"""Book 5.4.2 (ch05/buy_apple_orange.py, Fig. 5-17): 2 apples at 100 and 3 oranges at 150 with
10% tax, through multiplication and addition layers; prints price 715 and the gradients
2.2, 110, 3.3, 165, 650, then draws the graph with those gradients in red.

    python examples/book/ch05/buy_apple_orange.py   (writes out/book/buy_apple_orange.png)
"""

from pathlib import Path

from layer_naive import AddLayer, MulLayer

from viz import draw, number

apple = 100
apple_num = 2
orange = 150
orange_num = 3
tax = 1.1

# layer
mul_apple_layer = MulLayer()
mul_orange_layer = MulLayer()
add_apple_orange_layer = AddLayer()
mul_tax_layer = MulLayer()

# forward
apple_price = mul_apple_layer.forward(apple, apple_num)  # (1)
orange_price = mul_orange_layer.forward(orange, orange_num)  # (2)
all_price = add_apple_orange_layer.forward(apple_price, orange_price)  # (3)
price = mul_tax_layer.forward(all_price, tax)  # (4)

# backward
dprice = 1
dall_price, dtax = mul_tax_layer.backward(dprice)  # (4)
dapple_price, dorange_price = add_apple_orange_layer.backward(dall_price)  # (3)
dorange, dorange_num = mul_orange_layer.backward(dorange_price)  # (2)
dapple, dapple_num = mul_apple_layer.backward(dapple_price)  # (1)

print("price:", int(price.item()))
print("dApple:", number(dapple))
print("dApple_num:", int(dapple_num))
print("dOrange:", number(dorange))
print("dOrange_num:", int(dorange_num))
print("dTax:", number(dtax))

# the whole graph at once: backward from the price puts the same numbers in .grad
mul_apple_layer.x.name, mul_apple_layer.y.name = "apple", "apple_num"
mul_orange_layer.x.name, mul_orange_layer.y.name = "orange", "orange_num"
mul_tax_layer.y.name, price.name = "tax", "price"
price.backward()
drawing = draw(price, title="Fig. 5-17: apples and oranges")
path = drawing.save(Path("out/book") / "buy_apple_orange.png")
print(f"saved {path}")
